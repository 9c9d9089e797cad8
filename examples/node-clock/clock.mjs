// clock: a Maria processor in Node.js, written from the bus contract alone
// (schemas/README.md and schemas/jsonschema/*.json) with the nats client.
// It answers messages and mentions starting with "!time" in their thread,
// and claims them so the AI does not answer too.
//
//   NATS_URL=nats://127.0.0.1:4222 NATS_CREDS=<data dir>/nats/clock.nk node clock.mjs
//
// NATS_CREDS is an nkey seed file (the embedded server's <data dir>/nats/<user>.nk)
// or a .creds file; with neither, NATS_URL may carry user:password.
import { readFileSync } from "node:fs";
import { createHash, randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  AckPolicy, connect, credsAuthenticator, headers, nkeyAuthenticator,
} from "nats";
import Ajv2020 from "ajv/dist/2020.js";

const NAME = "clock"; // NATS user, durable, claim owner, envelope source
const STREAM = "MARIA_IN";
const CLAIMS_BUCKET = "maria_claims";
const CLAIM_REFRESH_MS = 5000; // schemas.ClaimRefresh
const BACKOFF_MS = [1000, 5000, 30000, 120000]; // schemas.DefaultBackOff
const MAX_DELIVER = BACKOFF_MS.length + 1;
const RULES = [{ kinds: ["message", "mention"], prefix: "!time" }];

const here = dirname(fileURLToPath(import.meta.url));
const schemaDir = process.env.MARIA_SCHEMAS_DIR || join(here, "..", "..", "schemas", "jsonschema");

function log(level, msg, fields = {}) {
  process.stderr.write(JSON.stringify({ level, component: NAME, msg, ...fields }) + "\n");
}

// --- the contract: JSON Schemas, ids, claims --------------------------------

const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
const validators = {};
function validator(type) {
  if (!validators[type]) {
    const schema = JSON.parse(readFileSync(join(schemaDir, `${type}.json`), "utf8"));
    validators[type] = ajv.compile(schema);
  }
  return validators[type];
}
function check(type, value) {
  const v = validator(type);
  if (!v(value)) {
    throw new Error(`${type}: ${ajv.errorsText(v.errors)}`);
  }
}

// stableId is schemas.StableID: sha256 over the parts, each followed by a
// zero byte, first 16 bytes in hex. A redelivered message yields the same
// child id, which the stream deduplicates (Nats-Msg-Id).
export function stableId(...parts) {
  const h = createHash("sha256");
  for (const p of parts) {
    h.update(p, "utf8");
    h.update(Buffer.from([0]));
  }
  return h.digest("hex").slice(0, 32);
}

// normalize is schemas.NormalizeClaimText: leading <@U…> mentions removed,
// trimmed, lower case.
export function normalize(text) {
  return text.replace(/^\s*(<@[A-Z0-9]+(\|[^>]*)?>[\s,:]*)+/, "").trim().toLowerCase();
}

// matches is schemas.ClaimRule.Matches.
export function matches(rule, ev) {
  const kinds = rule.kinds?.length ? rule.kinds : ["message", "mention", "command"];
  if (!kinds.includes(ev.kind)) return false;
  if (rule.channels?.length && !rule.channels.includes(ev.channel)) return false;
  if (rule.command && (ev.kind !== "command" || rule.command.toLowerCase() !== (ev.command || "").toLowerCase())) return false;
  const text = normalize(ev.text || "");
  if (rule.prefix && !text.startsWith(rule.prefix.toLowerCase())) return false;
  return !rule.contains || text.includes(rule.contains.toLowerCase());
}

// child builds the envelope caused by parent, as Envelope.Child does.
function child(parent, key, type, data) {
  return {
    id: stableId(parent.id, type, key),
    type,
    source: NAME,
    time: new Date().toISOString(),
    correlation_id: parent.correlation_id,
    causation_id: parent.id,
    team: parent.team,
    channel: parent.channel,
    thread_ts: parent.thread_ts,
    user: parent.user,
    user_team: parent.user_team,
    user_kind: parent.user_kind,
    data,
  };
}

function sanitizeToken(s) {
  return !s ? "_" : s.replace(/[.*>\s]/g, "_");
}

// --- the processor ------------------------------------------------------------

async function publishEnvelope(js, subject, env) {
  check(env.type, env);
  const h = headers();
  h.set("Maria-Type", env.type);
  h.set("Maria-Source", env.source);
  h.set("Maria-Correlation-Id", env.correlation_id);
  h.set("Maria-Causation-Id", env.causation_id);
  await js.publish(subject, JSON.stringify(env), { msgID: env.id, headers: h });
}

// deadLetter publishes the original message with the reason, as the Go
// runtime does, so `maria dlq` lists it.
async function deadLetter(js, m, reason) {
  const h = headers();
  for (const [k, v] of m.headers ?? []) h.set(k, v[0]);
  h.set("Maria-Dlq-Reason", reason.slice(0, 1000));
  h.set("Maria-Dlq-Stream", STREAM);
  h.set("Maria-Dlq-Consumer", NAME);
  h.set("Maria-Dlq-Subject", m.subject);
  h.set("Maria-Dlq-Sequence", String(m.seq));
  h.set("Maria-Dlq-Deliveries", String(m.info.redeliveryCount));
  const orig = m.headers?.get("Nats-Msg-Id") ?? "";
  if (orig) h.set("Maria-Dlq-Orig-Msg-Id", orig);
  await js.publish(`maria.dlq.${STREAM}.${NAME}`, m.data, { msgID: stableId("dlq", STREAM, NAME, String(m.seq)), headers: h });
}

// handle does the job for one message; it throws to retry.
async function handle(js, env) {
  const msg = env.data;
  if (msg.bot_id || env.user_kind === "bot") return "bot";
  if (env.type === "slack.message.v1" && msg.mentioned) return "mention_twin";
  const ev = { kind: env.type === "slack.mention.v1" ? "mention" : "message", channel: env.channel, text: msg.text };
  if (!RULES.some((r) => matches(r, ev))) return "not_ours";
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const reply = child(env, "reply", "out.post.v1", { text: `It is ${now} (UTC).`, thread_ts: msg.thread_ts || msg.ts });
  await publishEnvelope(js, `maria.out.${sanitizeToken(env.team)}.${sanitizeToken(env.channel)}`, reply);
  return "answered";
}

async function onMessage(js, m) {
  let env;
  try {
    env = JSON.parse(new TextDecoder().decode(m.data));
    check(env.type, env);
  } catch (err) {
    await deadLetter(js, m, `invalid envelope: ${err.message}`);
    m.term();
    return;
  }
  try {
    const outcome = await handle(js, env);
    m.ack();
    if (outcome === "answered") log("info", "answered", { correlation_id: env.correlation_id });
  } catch (err) {
    const n = m.info.redeliveryCount;
    if (n >= MAX_DELIVER) {
      await deadLetter(js, m, `exhausted after ${n} deliveries: ${err.message}`);
      m.term();
      return;
    }
    log("warn", "retrying", { err: err.message, deliveries: n });
    m.nak(BACKOFF_MS[Math.min(n - 1, BACKOFF_MS.length - 1)]);
  }
}

// announceClaims keeps the claim alive (schemas/README.md "Claims") until
// stopped; the AI owns the bucket, so until it exists each round retries.
function announceClaims(js) {
  const instance = randomBytes(6).toString("hex");
  const key = `${NAME}.${instance}`;
  const claim = { processor: NAME, instance, rules: RULES };
  check("claim.v1", claim);
  let kv;
  let failing = false;
  const put = async () => {
    try {
      kv ??= await js.views.kv(CLAIMS_BUCKET, { bindOnly: true });
      await kv.put(key, JSON.stringify(claim));
      if (failing) log("info", "claims announced");
      failing = false;
    } catch (err) {
      if (!failing) log("warn", "claims not announced (the AI may answer these messages too); retrying", { err: err.message });
      failing = true;
    }
  };
  const first = put();
  const timer = setInterval(put, CLAIM_REFRESH_MS);
  return {
    first,
    async stop() {
      clearInterval(timer);
      try { await kv?.delete(key); } catch { /* lapses after ClaimTTL */ }
    },
  };
}

function authenticator() {
  const path = process.env.NATS_CREDS;
  if (!path) return undefined;
  const content = readFileSync(path);
  if (content.includes("BEGIN NATS USER JWT")) return credsAuthenticator(content);
  const seed = content.toString("utf8").split(/\r?\n/).map((l) => l.trim()).find((l) => l.startsWith("SU"));
  if (!seed) throw new Error(`NATS_CREDS ${path}: neither a creds file nor an nkey seed`);
  return nkeyAuthenticator(new TextEncoder().encode(seed));
}

async function main() {
  const nc = await connect({ servers: (process.env.NATS_URL || "nats://127.0.0.1:4222").split(","), authenticator: authenticator(), name: NAME });
  const jsm = await nc.jetstreamManager();
  await jsm.consumers.add(STREAM, {
    durable_name: NAME,
    ack_policy: AckPolicy.Explicit,
    ack_wait: 30_000_000_000, // ns; handling takes milliseconds
    max_deliver: MAX_DELIVER,
    max_ack_pending: 64,
    filter_subjects: ["maria.in.message.>", "maria.in.mention.>"],
  });
  const js = nc.jetstream();
  const claims = announceClaims(js);
  await claims.first;
  const consumer = await js.consumers.get(STREAM, NAME);
  const messages = await consumer.consume({ max_messages: 16 });
  const stop = async () => {
    await claims.stop();
    messages.stop();
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  log("info", "ready", { durable: NAME });
  for await (const m of messages) {
    await onMessage(js, m);
  }
  await nc.drain();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    log("error", "stopped", { err: err.message });
    process.exit(1);
  });
}
