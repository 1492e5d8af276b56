// peer.js: the node half of tools/peer-bench/run.sh. It makes graphile-worker
// 0.18 do the durable job our server does (store N jobs, then deliver each as
// a signed webhook to partner-sink) and prints how fast.
//
//   node peer.js --pg postgres://... --sink 127.0.0.1:PORT --secret whsec_...
//                [--jobs 100000] [--batch 1000] [--concurrency 24]
//                [--local_queue 500] [--poll_ms 100] [--timeout_s 900]
//
// It is an ES module (graphile-worker 0.18 ships only ESM) and imports
// graphile-worker from the node_modules beside it: run.sh copies it, as
// peer.mjs, into a temporary directory next to a link to the throwaway
// install, so the repository has no node dependency of its own. Its last line is "result: key=value ...",
// which run.sh turns into the table and the machine-readable line.

import crypto from "node:crypto";
import http from "node:http";
import { parseArgs } from "node:util";

import { Logger, makeWorkerUtils, run } from "graphile-worker";

const { values: args } = parseArgs({
  options: {
    pg: { type: "string" },
    sink: { type: "string" },
    secret: { type: "string" },
    jobs: { type: "string", default: "100000" },
    batch: { type: "string", default: "1000" },
    concurrency: { type: "string", default: "24" },
    local_queue: { type: "string", default: "500" },
    poll_ms: { type: "string", default: "100" },
    complete_batch_ms: { type: "string", default: "-1" },
    timeout_s: { type: "string", default: "900" },
  },
});
for (const required of ["pg", "sink", "secret"]) {
  if (!args[required]) throw new Error(`peer.js: --${required} is required`);
}
const jobs = Number(args.jobs);
const batch = Number(args.batch);
const [sinkHost, sinkPort] = args.sink.split(":");
// Loopback only: the benchmark must never send anything off this machine.
if (sinkHost !== "127.0.0.1") {
  throw new Error(`peer.js: --sink must be on 127.0.0.1, not ${sinkHost}`);
}
if (!args.secret.startsWith("whsec_")) {
  throw new Error("peer.js: --secret must be a whsec_ secret");
}
// Standard Webhooks: the HMAC key is the base64 after "whsec_".
const signingKey = Buffer.from(args.secret.slice("whsec_".length), "base64");

// One pool of keep-alive connections for every delivery, as our server keeps
// its connections to a partner open; at most one socket per concurrent job.
const agent = new http.Agent({
  keepAlive: true,
  maxSockets: Number(args.concurrency),
});

// POSTs `body` to the sink; resolves to {status, text}. Reading the answer to
// its end is what lets the agent reuse the socket.
function post(path, body, headers, useAgent) {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: sinkHost,
        port: Number(sinkPort),
        method: body === null ? "GET" : "POST",
        path,
        agent: useAgent ? agent : undefined,
        headers,
      },
      (response) => {
        const chunks = [];
        response.on("data", (chunk) => chunks.push(chunk));
        response.on("end", () =>
          resolve({
            status: response.statusCode,
            text: Buffer.concat(chunks).toString(),
          }),
        );
        response.on("error", reject);
      },
    );
    request.on("error", reject);
    request.end(body ?? undefined);
  });
}

async function sinkStats() {
  const { status, text } = await post("/stats", null, {}, false);
  if (status !== 200) throw new Error(`sink /stats answered ${status}`);
  return JSON.parse(text);
}

// The task. The webhook-id comes from the payload, not from the job row, so
// a retried job is recognisably the same event to the partner (the sink
// counts it as a duplicate) — the same promise our server makes.
async function deliver(payload) {
  const body = JSON.stringify(payload.event);
  const timestamp = Math.floor(Date.now() / 1000);
  const signature = crypto
    .createHmac("sha256", signingKey)
    .update(`${payload.id}.${timestamp}.${body}`)
    .digest("base64");
  const { status, text } = await post(
    "/webhooks",
    body,
    {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
      "webhook-id": payload.id,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": `v1,${signature}`,
    },
    true,
  );
  // Throwing makes graphile-worker retry the job later, with backoff.
  if (status < 200 || status > 299) {
    throw new Error(`sink answered ${status}: ${text.slice(0, 200)}`);
  }
}

// graphile-worker logs every completed job at "info": 100,000 console lines
// would be a cost of the benchmark, not of the queue (a deployment would
// raise the level too). Warnings and errors still show, the first few.
let logLines = 0;
const quietLogger = new Logger(() => (level, message) => {
  if (level !== "error" && level !== "warning") return;
  if (++logLines <= 20) console.error(`graphile-worker ${level}: ${message}`);
  if (logLines === 20) console.error("graphile-worker: further messages omitted");
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const utils = await makeWorkerUtils({
    connectionString: args.pg,
    logger: quietLogger,
  });
  // Creating graphile-worker's schema is setup, not part of either figure.
  await utils.migrate();

  // Ids unique to this run, so a --sink shared with earlier runs still counts
  // this run's events as new.
  const runTag = `${Date.now().toString(36)}-${crypto.randomBytes(3).toString("hex")}`;
  // The sink verifies with every secret it was given: add this run's.
  const added = await post(
    "/secrets",
    JSON.stringify({ secret: args.secret }),
    { "content-type": "application/json" },
    false,
  );
  if (added.status !== 200) {
    throw new Error(`sink /secrets answered ${added.status}: ${added.text}`);
  }
  const before = await sinkStats();

  // Enqueue: each addJobs call is one statement (graphile_worker.add_jobs)
  // and so one committed, fsynced transaction per batch.
  const enqueueStart = process.hrtime.bigint();
  for (let first = 0; first < jobs; first += batch) {
    const specs = [];
    for (let i = first; i < Math.min(jobs, first + batch); i++) {
      const id = `evt_${runTag}_${i}`;
      specs.push({
        identifier: "deliver",
        payload: {
          id,
          // About the size and shape of one of our trigger events.
          event: {
            type: "candidate.triggered",
            id,
            created_at: new Date().toISOString(),
            data: {
              candidate: `candidates/peer-${i}`,
              job: "jobs/peer-bench",
              package: "standard",
              sequence: i,
            },
          },
        },
      });
    }
    await utils.addJobs(specs);
  }
  const enqueueSeconds = Number(process.hrtime.bigint() - enqueueStart) / 1e9;
  console.log(
    `enqueued ${jobs} jobs in ${enqueueSeconds.toFixed(3)} s = ` +
      `${Math.round(jobs / enqueueSeconds)}/s`,
  );

  let jobErrors = 0;
  let jobsFailed = 0;
  const deliverStart = process.hrtime.bigint();
  const deliverStartMs = Date.now();
  const runner = await run({
    taskList: { deliver },
    // We stop the runner ourselves; run.sh owns the signals.
    noHandleSignals: true,
    preset: {
      worker: {
        connectionString: args.pg,
        concurrentJobs: Number(args.concurrency),
        pollInterval: Number(args.poll_ms),
        // Fetch (and lock) up to this many jobs per query instead of one per
        // job: 0.18's documented throughput setting.
        localQueue: { size: Number(args.local_queue) },
        // Completions within this many ms share one transaction; -1 (the
        // default) commits each job's completion alone. Batching is
        // graphile-worker's own advice for throughput, at the price of jobs
        // a crash can run twice.
        completeJobBatchDelay: Number(args.complete_batch_ms),
        // A client per concurrent job plus the local queue's fetches, so
        // that the pool is never what the jobs wait for (graphile-worker
        // warns when it is smaller than the concurrency).
        maxPoolSize: Number(args.concurrency) + 4,
        logger: quietLogger,
      },
    },
  });
  runner.events.on("job:error", () => jobErrors++);
  runner.events.on("job:failed", () => jobsFailed++);

  // Deliveries: until the sink has verified N distinct ids of this run.
  const deadline = Date.now() + Number(args.timeout_s) * 1000;
  let stats = await sinkStats();
  while (stats.accepted - before.accepted < jobs && Date.now() < deadline) {
    await sleep(50);
    stats = await sinkStats();
  }
  const deliverSeconds = Number(process.hrtime.bigint() - deliverStart) / 1e9;
  const accepted = stats.accepted - before.accepted;
  // From the sink's clock: first to last accepted delivery, without the
  // runner's start-up (the figure ats-bench bulk reports for our server); on
  // a sink that had deliveries before, from the runner's start.
  const fromMs =
    before.accepted === 0 ? stats.first_accept_unix_ms : deliverStartMs;
  const sinkSpan = (stats.last_accept_unix_ms - fromMs) / 1000;

  // The sink has every event, but graphile-worker may still be marking the
  // last jobs complete: wait for its queue to empty before stopping, so that
  // jobs_left reports jobs that really are unfinished.
  let jobsLeft = -1;
  while (Date.now() < deadline) {
    const { rows } = await utils.withPgClient((client) =>
      client.query("select count(*)::int as n from graphile_worker.jobs"),
    );
    jobsLeft = rows[0].n;
    if (jobsLeft === 0) break;
    await sleep(100);
  }
  await runner.stop();
  await utils.release();
  agent.destroy();
  stats = await sinkStats();

  console.log(
    `delivered ${accepted} distinct ids in ${deliverSeconds.toFixed(3)} s = ` +
      `${Math.round(accepted / deliverSeconds)}/s (sink first→last ` +
      `${sinkSpan.toFixed(3)} s); job errors ${jobErrors}, failed ${jobsFailed}`,
  );
  const result = {
    jobs,
    enqueue_s: enqueueSeconds.toFixed(3),
    enqueue_per_s: Math.round(jobs / enqueueSeconds),
    accepted,
    deliver_s: deliverSeconds.toFixed(3),
    deliver_per_s: Math.round(accepted / deliverSeconds),
    sink_span_s: sinkSpan.toFixed(3),
    duplicates: stats.duplicates - before.duplicates,
    rejected: stats.rejected - before.rejected,
    failed: stats.failed - before.failed,
    job_errors: jobErrors,
    jobs_left: jobsLeft,
  };
  console.log(
    "result: " +
      Object.entries(result)
        .map(([key, value]) => `${key}=${value}`)
        .join(" "),
  );
  const ok = accepted === jobs && result.rejected === 0 && jobsLeft === 0;
  process.exitCode = ok ? 0 : 1;
}

main().catch((error) => {
  console.error(`peer.js: ${error.stack ?? error}`);
  process.exitCode = 1;
});
