// The explorer's entry point: load the lists of data and photos, build the three views, route
// the keyboard (arrows step the timeline, space runs or pauses) to the view on screen.
import { api, status } from "./api.js";
import { ChooseKView } from "./choosek.js";
import { CompressView } from "./compress.js";
import { StepView } from "./stepview.js";

const $ = (id) => document.getElementById(id);

async function main() {
  const info = await api.get("/api/shapes");
  const step = new StepView(info.shapes, info.max_k);
  const compress = new CompressView(info.samples);
  const choose = new ChooseKView((k) => {
    $("k").value = Math.min(k, info.max_k);
    show("step");
    step.seed("k-means++");
    status(`K = ${k} loaded: k-means++ is choosing its seeds.`);
  });
  const views = { step, compress, choosek: choose };
  let current = "step";

  function show(name) {
    current = name;
    for (const key of Object.keys(views)) {
      $(`view-${key}`).hidden = key !== name;
      $(`tab-${key}`).setAttribute("aria-selected", String(key === name));
    }
    window.dispatchEvent(new Event("resize"));
    if (name === "compress" && !compress.image && info.samples.length) {
      $("sample-image").value = info.samples[0].name;
      compress.useSample(info.samples[0].name);
    }
    if (name === "choosek") choose.draw();
  }

  for (const key of Object.keys(views)) $(`tab-${key}`).addEventListener("click", () => show(key));
  document.addEventListener("keydown", (e) => {
    const tag = e.target.tagName;
    const range = tag === "INPUT" && e.target.type === "range";
    if ((tag === "INPUT" && !range) || tag === "SELECT" || tag === "TEXTAREA") return;
    if (range && e.key !== " ") return; // the slider steps itself with the arrows
    if (e.target.tagName === "BUTTON" && e.key === " ") return; // space presses the button
    if (views[current].onKey(e)) e.preventDefault();
  });
  await step.loadShape("sample");
  document.body.dataset.ready = "true";
  status("Ready. Choose how to start: click to place centroids, random rows or k-means++.");
}

main().catch((e) => status(`The explorer could not start: ${e.message}`, "error"));
