// Talking to the lloyd server: every request carries this tab's client id; errors become
// exceptions whose message is the server's own sentence.

function newClientId() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export const clientId = newClientId();

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function request(method, path, body, contentType) {
  const headers = { "X-Lloyd-Client": clientId };
  if (contentType) headers["Content-Type"] = contentType;
  const response = await fetch(path, { method, headers, body, credentials: "same-origin" });
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { error: text };
  }
  if (!response.ok) {
    throw new ApiError(response.status, (data && data.error) || `HTTP ${response.status}`);
  }
  return data;
}

export const api = {
  get: (path) => request("GET", path),
  post: (path, payload) => request("POST", path, JSON.stringify(payload), "application/json"),
  upload: (path, file) => request("POST", path, file, "application/octet-stream"),
  cancel: (path) => request("DELETE", path),
};

// Show a message in the status line at the foot of the page (errors in red, with role=alert).
export function status(message, kind = "info") {
  const line = document.getElementById("status");
  line.textContent = message;
  line.dataset.kind = kind;
  line.setAttribute("role", kind === "error" ? "alert" : "status");
}

// Run a long computation: start it, poll its progress into `onProgress`, resolve with its
// result; `signal.cancel()` asks the server to stop it.
export function runJob(payload, onProgress) {
  let jobId = null;
  let cancelled = false;
  const promise = (async () => {
    const job = await api.post("/api/jobs", payload);
    jobId = job.id;
    for (;;) {
      const state = await api.get(`/api/jobs/${jobId}`);
      onProgress(state);
      if (state.state === "done") return state;
      if (state.state === "failed") throw new ApiError(422, state.error);
      if (state.state === "cancelled") throw new ApiError(499, "cancelled");
      await new Promise((r) => setTimeout(r, cancelled ? 50 : 120));
    }
  })();
  return {
    promise,
    get id() {
      return jobId;
    },
    async cancel() {
      cancelled = true;
      if (jobId) await api.cancel(`/api/jobs/${jobId}`);
    },
  };
}
