/**
 * The deployment files, tested as far as a machine without a Docker engine or a cluster allows:
 * - the Dockerfile's steps are run as a script (COPY into a temp dir standing for the image's
 *   /app, RUN with sh, then its CMD and HEALTHCHECK), and the server it starts is healthy,
 *   serves the browser client, applies the migrations and drains on SIGTERM;
 * - docker-compose.yml, the nginx config and .env.example describe two instances behind a
 *   WebSocket/SSE-friendly proxy, with MySQL and Redis, and settings tickwire accepts;
 * - the Kubernetes manifests are valid YAML with the fields a rollout relies on;
 * - the Grafana dashboard only uses metric names a live `/metrics` exposes, and `/metrics`
 *   reports what SPEC §5 lists, `tickwire_dependency_up` included for db and redis.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { mintToken } from "../src/auth/tokens.ts";
import { loadConfig } from "../src/config/index.ts";
import type { Tickwire } from "../src/main.ts";
import { MODES, startServer, uniquePrefix, wsUrl } from "./support/server.ts";
import { wsClient } from "./support/ws-client.ts";

const ROOT = join(import.meta.dir, "..");
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");
const SECRET = "deploy-test-secret-0123456789";

/** `KEY=value` lines of an env file (comments and blank lines skipped). */
function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^\s*([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) env[m[1]!] = m[2]!.trim();
  }
  return env;
}

// ---------------------------------------------------------------------------------------------
// Dockerfile

interface Instruction {
  op: string;
  args: string;
}

/** Instructions of a Dockerfile: comments dropped, `\` continuations joined, `${ARG}` expanded. */
function parseDockerfile(text: string): Instruction[] {
  const logical: string[] = [];
  let current = "";
  for (const raw of text.split("\n")) {
    if (/^\s*#/.test(raw) && current === "") continue;
    const line = raw.replace(/\s+$/, "");
    if (line.endsWith("\\")) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    current += line;
    if (current.trim()) logical.push(current.trim());
    current = "";
  }
  const args: Record<string, string> = {};
  return logical.map((line) => {
    const [, op, rest] = /^(\w+)\s+([\s\S]*)$/.exec(line)!;
    const expanded = rest!.replace(/\$\{(\w+)\}/g, (whole, name: string) => args[name] ?? whole);
    if (op!.toUpperCase() === "ARG") {
      const [name, value] = expanded.split("=");
      args[name!] = value ?? "";
    }
    return { op: op!.toUpperCase(), args: expanded };
  });
}

/** `A=1 B="two words"` → { A: "1", B: "two words" } */
function parseEnvInstruction(args: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of args.matchAll(/(\w+)=("([^"]*)"|\S*)/g)) env[m[1]!] = m[3] ?? m[2]!;
  return env;
}

interface Stage {
  name: string;
  image: string;
  dir: string;
  env: Record<string, string>;
  user?: string;
  cmd?: string[];
  healthcheck?: string;
  stopSignal?: string;
  runs: string[];
}

/**
 * Runs the Dockerfile's build steps on this machine: each stage's WORKDIR (/app) is a temp
 * directory, COPY copies from the repository (the build context) or an earlier stage, RUN runs
 * with sh. `chown` is a no-op here (no `bun` user on this machine; the image has one).
 */
async function buildLikeDocker(instructions: Instruction[], workspace: string): Promise<Stage[]> {
  const stages: Stage[] = [];
  const shims = join(workspace, "shims");
  mkdirSync(shims, { recursive: true });
  writeFileSync(join(shims, "chown"), "#!/bin/sh\nexit 0\n");
  chmodSync(join(shims, "chown"), 0o755);
  let stage: Stage | undefined;
  const local = (path: string) => path.replaceAll("/app", stage!.dir);
  for (const { op, args } of instructions) {
    switch (op) {
      case "ARG":
      case "EXPOSE":
        break;
      case "FROM": {
        const [image, , name] = args.split(/\s+/);
        stage = { name: name ?? String(stages.length), image: image!, dir: join(workspace, name ?? String(stages.length)), env: {}, runs: [] };
        stages.push(stage);
        mkdirSync(stage.dir, { recursive: true });
        break;
      }
      case "WORKDIR":
        expect(args).toBe("/app");
        break;
      case "ENV":
        Object.assign(stage!.env, parseEnvInstruction(args));
        break;
      case "COPY": {
        const words = args.split(/\s+/);
        const from = words.find((w) => w.startsWith("--from="))?.slice(7);
        const paths = words.filter((w) => !w.startsWith("--"));
        const dest = paths.pop()!;
        for (const src of paths) {
          const source = from ? local(src).replace(stage!.dir, stages.find((s) => s.name === from)!.dir) : join(ROOT, src);
          expect(existsSync(source), `COPY source ${src}`).toBe(true);
          const target = dest.endsWith("/") ? join(stage!.dir, dest, src.split("/").pop()!) : join(stage!.dir, dest);
          mkdirSync(dirname(target), { recursive: true });
          cpSync(source, target, { recursive: true });
        }
        break;
      }
      case "RUN": {
        stage!.runs.push(args);
        const proc = Bun.spawn(["sh", "-c", local(args)], {
          cwd: stage!.dir,
          env: { ...process.env, ...stage!.env, PATH: `${shims}:${dirname(process.execPath)}:${process.env.PATH}` },
          stdout: "pipe",
          stderr: "pipe",
        });
        const code = await proc.exited;
        expect(code, `RUN ${args}\n${await new Response(proc.stderr).text()}`).toBe(0);
        break;
      }
      case "USER":
        stage!.user = args;
        break;
      case "HEALTHCHECK":
        stage!.healthcheck = args.replace(/^(--\S+\s+)*CMD\s+/, "");
        break;
      case "STOPSIGNAL":
        stage!.stopSignal = args;
        break;
      case "CMD":
        stage!.cmd = JSON.parse(args);
        break;
      default:
        throw new Error(`the test does not know Dockerfile instruction ${op}; teach it`);
    }
  }
  return stages;
}

describe("Dockerfile", () => {
  const instructions = parseDockerfile(read("Dockerfile"));

  it("builds on the official Bun image of the pinned version, in two stages, and runs as the non-root bun user", () => {
    const pinned = JSON.parse(read("package.json")).devDependencies.bun;
    const froms = instructions.filter((i) => i.op === "FROM").map((i) => i.args.split(/\s+/)[0]);
    expect(froms).toEqual([`oven/bun:${pinned}`, `oven/bun:${pinned}-slim`]);
    const afterLastFrom = instructions.slice(instructions.findLastIndex((i) => i.op === "FROM"));
    const userAt = afterLastFrom.findIndex((i) => i.op === "USER");
    expect(afterLastFrom[userAt]?.args).toBe("bun");
    expect(afterLastFrom.findIndex((i) => i.op === "CMD")).toBeGreaterThan(userAt);
    expect(afterLastFrom.some((i) => i.op === "HEALTHCHECK" && i.args.includes("/health"))).toBe(true);
    // The runtime stage holds no dev tooling or tests.
    const copied = afterLastFrom.filter((i) => i.op === "COPY").map((i) => i.args);
    expect(copied.some((c) => /\b(test|bench)\b/.test(c))).toBe(false);
  });

  it("its steps, run as a script, give a server that is healthy, serves the page, migrates, and drains on SIGTERM", async () => {
    const workspace = mkdtempSync(join(tmpdir(), "tickwire-docker-"));
    try {
      const stages = await buildLikeDocker(instructions, workspace);
      const runtime = stages.at(-1)!;
      const deps = stages[0]!;
      expect(deps.runs.join(" ")).toContain("--frozen-lockfile");
      // Production dependencies only.
      expect(existsSync(join(runtime.dir, "node_modules/jose"))).toBe(true);
      expect(existsSync(join(runtime.dir, "node_modules/typescript"))).toBe(false);
      expect(existsSync(join(runtime.dir, "node_modules/mitata"))).toBe(false);
      expect(existsSync(join(runtime.dir, "drizzle/sqlite"))).toBe(true);
      expect(existsSync(join(runtime.dir, "public/index.html"))).toBe(true);
      // Like the image: the server is not root, the code is read-only to it, only data/ is
      // writable, and it has no home. When the tests run as root, drop to `nobody` for this.
      for (const entry of readdirSync(runtime.dir)) if (entry !== "data") Bun.spawnSync(["chmod", "-R", "a-w", join(runtime.dir, entry)]);
      Bun.spawnSync(["chmod", "-R", "a+rX", workspace]);
      const asRoot = process.getuid?.() === 0;
      if (asRoot) Bun.spawnSync(["chown", "-R", "65534:65534", join(runtime.dir, "data")]);
      const dropRoot = asRoot ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"] : [];
      const env: Record<string, string> = {
        PATH: `${dirname(process.execPath)}:${process.env.PATH}`,
        HOME: join(workspace, "no-home"),
        ...Object.fromEntries(Object.entries(runtime.env).map(([k, v]) => [k, v.replaceAll("/app", runtime.dir)])),
        JWT_SECRET: SECRET,
        PORT: "0",
        HOST: "127.0.0.1",
      };
      expect(env.APP_ENV).toBe("prod");
      const [exe, ...argv] = runtime.cmd!;
      expect(exe).toBe("bun");
      const marker = join(workspace, "started");
      writeFileSync(marker, "");
      const proc = Bun.spawn([...dropRoot, process.execPath, ...argv], { cwd: runtime.dir, env, stdout: "pipe", stderr: "pipe" });
      try {
        const port = await listeningPort(proc.stdout as ReadableStream<Uint8Array>);
        const url = `http://127.0.0.1:${port}`;
        const health = await fetch(`${url}/health`);
        expect(health.status).toBe(200);
        expect(((await health.json()) as any).checks.db).toBe("up");
        const page = await fetch(`${url}/`);
        expect(page.status).toBe(200);
        expect(await page.text()).toContain("<html");
        const token = await mintToken(SECRET, { sub: "docker", publish: ["timers"] });
        const created = await fetch(`${url}/timer`, {
          method: "POST",
          headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
          body: JSON.stringify({ sessionId: "docker", maxTime: 10 }),
        });
        expect(created.status).toBe(201);
        expect(existsSync(join(runtime.dir, "data/tickwire.db"))).toBe(true);
        // Nothing but data/ was written (no transpiler cache or the like next to the code).
        const written = Bun.spawnSync(["find", runtime.dir, "-newer", marker, "-type", "f", "-not", "-path", "*/data/*"]);
        expect(written.stdout.toString().trim()).toBe("");
        // The HEALTHCHECK command, as Docker would run it inside the container.
        const check = Bun.spawn(["sh", "-c", runtime.healthcheck!], { cwd: runtime.dir, env: { ...env, PORT: String(port) } });
        expect(await check.exited).toBe(0);
        expect(runtime.stopSignal).toBe("SIGTERM");
        proc.kill("SIGTERM");
        expect(await proc.exited).toBe(0);
        // And the health check fails once the server is gone.
        const after = Bun.spawn(["sh", "-c", runtime.healthcheck!], { cwd: runtime.dir, env: { ...env, PORT: String(port) } });
        expect(await after.exited).toBe(1);
      } finally {
        proc.kill("SIGKILL");
      }
    } finally {
      Bun.spawnSync(["chmod", "-R", "u+w", workspace]);
      rmSync(workspace, { recursive: true, force: true });
    }
  }, 120_000);

  it(".dockerignore keeps node_modules, data and .env out of the build context", () => {
    const ignored = read(".dockerignore")
      .split("\n")
      .map((l) => l.trim());
    for (const entry of ["node_modules", "data", ".env", ".git"]) expect(ignored).toContain(entry);
  });
});

/** Reads JSON log lines until "tickwire listening" and returns its port. */
async function listeningPort(stdout: ReadableStream<Uint8Array>): Promise<number> {
  const decoder = new TextDecoder();
  let buffer = "";
  const seen: string[] = [];
  for await (const chunk of stdout) {
    buffer += decoder.decode(chunk, { stream: true });
    let i: number;
    while ((i = buffer.indexOf("\n")) !== -1) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      seen.push(line);
      try {
        const rec = JSON.parse(line);
        if (rec.msg === "tickwire listening") return rec.port;
      } catch {}
    }
  }
  throw new Error(`server exited before listening:\n${seen.join("\n")}`);
}

// ---------------------------------------------------------------------------------------------
// docker compose

describe("docker-compose.yml", () => {
  const compose = parseYaml(read("docker-compose.yml"), { merge: true });
  const dotenv = parseEnvFile(read(".env.example"));

  it("runs two tickwire instances, a proxy, MySQL and Redis (and, in profile sentinel, a primary, a replica and three sentinels)", () => {
    const inProfile = (name: string) => (compose.services[name].profiles ?? []).length > 0;
    const names = Object.keys(compose.services);
    expect(names.filter((n) => !inProfile(n)).sort()).toEqual(["mysql", "proxy", "redis", "tickwire-1", "tickwire-2"]);
    expect(names.filter(inProfile).sort()).toEqual(["redis-primary", "redis-replica", "redis-sentinel-1", "redis-sentinel-2", "redis-sentinel-3"]);
    for (const name of names.filter(inProfile)) expect(compose.services[name].profiles).toEqual(["sentinel"]);
    const overlay = parseYaml(read("deploy/compose.sentinel.yml"), { merge: true });
    for (const name of ["tickwire-1", "tickwire-2"]) {
      const env = overlay.services[name].environment;
      expect(env.REDIS_SENTINEL).toBe("tw@redis-sentinel-1:26379,redis-sentinel-2:26379,redis-sentinel-3:26379");
      expect(String(env.REDIS_MIN_REPLICAS)).toBe("1");
    }
    for (const name of ["tickwire-1", "tickwire-2"]) {
      const svc = compose.services[name];
      expect(svc.build).toBe(".");
      expect(svc.env_file.map((f: any) => f.path ?? f)).toContain(".env.example");
      expect(svc.depends_on.mysql.condition).toBe("service_healthy");
      expect(svc.depends_on.redis.condition).toBe("service_healthy");
      expect(svc.healthcheck.test.join(" ")).toContain("/health");
      expect(svc.ports).toBeUndefined(); // only the proxy is published
    }
    expect(compose.services.proxy.ports).toContain("8080:80");
    expect(compose.services.proxy.volumes[0]).toStartWith("./deploy/nginx.conf:");
    expect(compose.services.mysql.image).toStartWith("mysql:");
    expect(compose.services.redis.image).toStartWith("redis:");
    expect(compose.services.mysql.healthcheck).toBeDefined();
    expect(compose.services.redis.healthcheck).toBeDefined();
  });

  it("gives the instances settings tickwire accepts, sharing MySQL and Redis", () => {
    for (const name of ["tickwire-1", "tickwire-2"]) {
      const env = { ...dotenv, ...compose.services[name].environment };
      const config = loadConfig(env);
      expect(config.appEnv).toBe("prod");
      expect(config.port).toBe(8080);
      expect(config.redisUrl).toBe("redis://redis:6379");
      expect(config.databaseUrl).toStartWith("mysql://");
      expect(config.jwtSecret![0]!.length).toBeGreaterThanOrEqual(16);
    }
    // The database URL matches the credentials the mysql service is created with.
    const db = new URL(dotenv.DATABASE_URL!);
    expect(db.hostname).toBe("mysql");
    expect(db.username).toBe(dotenv.MYSQL_USER!);
    expect(db.password).toBe(dotenv.MYSQL_PASSWORD!);
    expect(db.pathname).toBe(`/${dotenv.MYSQL_DATABASE}`);
    expect(compose.services.mysql.env_file.map((f: any) => f.path ?? f)).toContain(".env.example");
  });

  it("has an nginx config that balances both instances and keeps WebSocket and SSE streams flowing", () => {
    const conf = read("deploy/nginx.conf").replace(/#.*$/gm, "");
    expect(conf).toMatch(/server\s+tickwire-1:8080/);
    expect(conf).toMatch(/server\s+tickwire-2:8080/);
    for (const directive of [
      /proxy_http_version\s+1\.1;/,
      /proxy_set_header\s+Upgrade\s+\$http_upgrade;/,
      /proxy_set_header\s+Connection\s+\$connection_upgrade;/,
      /map\s+\$http_upgrade\s+\$connection_upgrade/,
      /proxy_buffering\s+off;/,
      /proxy_cache\s+off;/,
      /proxy_set_header\s+Host\s+\$http_host;/,
    ]) {
      expect(conf).toMatch(directive);
    }
    const timeout = Number(/proxy_read_timeout\s+(\d+)s;/.exec(conf)?.[1]);
    expect(timeout).toBeGreaterThanOrEqual(3600);
    // Balanced braces, every directive line ends with ; or a block.
    expect(conf.split("{").length).toBe(conf.split("}").length);
    for (const line of conf
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean))
      expect(line).toMatch(/[;{}]$/);
  });
});

// ---------------------------------------------------------------------------------------------
// Kubernetes

describe("deploy/k8s", () => {
  const dir = join(ROOT, "deploy/k8s");
  const docs = readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(dir, file), "utf8")).map((doc) => {
        expect(doc.errors, file).toEqual([]);
        return doc.toJS();
      }),
    );
  const byKind = (kind: string) => docs.filter((d) => d?.kind === kind);
  const deployment = byKind("Deployment")[0];
  const pod = deployment?.spec?.template?.spec;
  const container = pod?.containers?.[0];

  it("has a Deployment, Service, ConfigMap, Secret and HorizontalPodAutoscaler, all listed in the kustomization", () => {
    for (const kind of ["Deployment", "Service", "ConfigMap", "Secret", "HorizontalPodAutoscaler"]) expect(byKind(kind), kind).toHaveLength(1);
    for (const doc of docs.filter((d) => d.kind !== "Kustomization")) {
      expect(typeof doc.apiVersion).toBe("string");
      expect(doc.metadata.name).toBe("tickwire");
    }
    const kustomization = byKind("Kustomization")[0];
    const files = readdirSync(dir).filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml");
    expect([...kustomization.resources].sort()).toEqual(files.sort());
  });

  it("runs 3 replicas with readiness and liveness on /health, a preStop drain, limits and a grace period", () => {
    expect(deployment.spec.replicas).toBe(3);
    expect(deployment.spec.selector.matchLabels).toEqual(pick(deployment.spec.template.metadata.labels, Object.keys(deployment.spec.selector.matchLabels)));
    const port = container.ports.find((p: any) => p.name === "http");
    expect(port.containerPort).toBe(8080);
    for (const probe of ["readinessProbe", "livenessProbe"]) {
      expect(container[probe].httpGet.path, probe).toBe("/health");
      expect([8080, "http"]).toContain(container[probe].httpGet.port);
    }
    expect(container.lifecycle.preStop.exec.command).toEqual(["sleep", "5"]);
    // preStop + main.ts's 5 s drain budget must fit in the grace period.
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(5 + 5);
    for (const resource of ["cpu", "memory"]) {
      expect(container.resources.requests[resource]).toBeDefined();
      expect(container.resources.limits[resource]).toBeDefined();
    }
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(container.securityContext.allowPrivilegeEscalation).toBe(false);
    // A read-only root filesystem needs writable /tmp and /app/data.
    if (container.securityContext.readOnlyRootFilesystem) {
      expect(container.volumeMounts.map((m: any) => m.mountPath).sort()).toEqual(["/app/data", "/tmp"]);
    }
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
  });

  it("wires the Service, HPA, ConfigMap and Secret to the Deployment", () => {
    const service = byKind("Service")[0];
    expect(service.spec.selector).toEqual(pick(deployment.spec.template.metadata.labels, Object.keys(service.spec.selector)));
    expect(service.spec.ports[0].targetPort).toBe("http");
    const hpa = byKind("HorizontalPodAutoscaler")[0];
    expect(hpa.apiVersion).toBe("autoscaling/v2");
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: "Deployment", name: deployment.metadata.name });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(deployment.spec.replicas);
    expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
    expect(hpa.spec.metrics.length).toBeGreaterThan(0);
    const configMap = byKind("ConfigMap")[0];
    const secret = byKind("Secret")[0];
    expect(container.envFrom).toEqual([{ configMapRef: { name: configMap.metadata.name } }, { secretRef: { name: secret.metadata.name } }]);
    // The settings are ones tickwire starts with: Redis on, MySQL, auth on.
    const config = loadConfig({ ...configMap.data, ...secret.stringData });
    expect(config.appEnv).toBe("prod");
    expect(config.port).toBe(port(container));
    expect(config.redisUrl).toBeDefined();
    expect(config.databaseUrl).toStartWith("mysql://");
    expect(config.jwtSecret).toBeDefined();
    expect(secret.stringData.JWT_SECRET).not.toBe(configMap.data.JWT_SECRET);
    expect(configMap.data.JWT_SECRET).toBeUndefined(); // secrets stay in the Secret
  });
});

function pick(obj: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, obj[k]]));
}

function port(container: any): number {
  return container.ports.find((p: any) => p.name === "http").containerPort;
}

// ---------------------------------------------------------------------------------------------
// Metrics and the dashboard

const mysqlRedis = MODES.find((m) => m.name === "mysql+redis")!;

describe("/metrics and the Grafana dashboard", () => {
  let app: Tickwire;
  let text: string;
  beforeAll(async () => {
    app = await startServer({ ...mysqlRedis.env(uniquePrefix("deploy-metrics")), TICK_MS: "50" });
    // Traffic of every kind the metrics count: HTTP, a WS client message, chat, ticks.
    const ws = wsClient(wsUrl(app, "/ws?topics=cron,chat"));
    await ws.next((f) => f.topic === "cron");
    ws.send({ op: "ping", ref: 1 });
    await ws.next((f) => f.ref === 1);
    const posted = await fetch(`${app.url}/messages`, { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"content":"metrics"}' });
    expect(posted.status).toBe(201);
    await ws.next((f) => f.topic === "chat");
    await fetch(`${app.url}/nope`);
    text = await (await fetch(`${app.url}/metrics`)).text();
    ws.close();
  });
  afterAll(() => app?.stop());

  it("reports what SPEC §5 lists", () => {
    for (const series of [
      /^tickwire_connections\{transport="ws"\} 1$/m,
      /^tickwire_connections\{transport="sse"\} 0$/m,
      /^tickwire_events_published_total\{topic="chat"\} [1-9]/m,
      /^tickwire_events_delivered_total\{topic="chat"\} [1-9]/m,
      /^tickwire_events_delivered_total\{topic="cron"\} [1-9]/m,
      /^tickwire_fanout_latency_seconds_count [1-9]/m,
      /^tickwire_tick_lateness_seconds_count [1-9]/m,
      /^tickwire_ticks_skipped_total \d+$/m,
      /^tickwire_queue_depth\{queue="relay_ingest"\} \d+$/m,
      /^tickwire_http_requests_total\{route="\/messages",method="POST",status="201"\} 1$/m,
      /^tickwire_http_requests_total\{route="unmatched",method="GET",status="404"\} 1$/m,
      /^tickwire_ws_messages_total\{kind="unified",outcome="handled"\} 1$/m,
      /^tickwire_dependency_up\{dependency="db"\} 1$/m,
      /^tickwire_dependency_up\{dependency="redis"\} 1$/m,
    ]) {
      expect(text).toMatch(series);
    }
    expect(text).toContain("# TYPE tickwire_events_dropped_total counter");
  });

  it("in embedded mode reports the database and leaves out the Redis it does not use", async () => {
    const embedded = await startServer();
    try {
      const body = await (await fetch(`${embedded.url}/metrics`)).text();
      expect(body).toMatch(/^tickwire_dependency_up\{dependency="db"\} 1$/m);
      expect(body).not.toContain('dependency="redis"');
    } finally {
      await embedded.stop();
    }
  });

  it("the dashboard queries only metric names /metrics exposes, and covers each of them", () => {
    const dashboard = JSON.parse(read("deploy/grafana-dashboard.json"));
    expect(dashboard.title).toBe("tickwire");
    const exprs: string[] = dashboard.panels.flatMap((p: any) => (p.targets ?? []).map((t: any) => t.expr));
    expect(exprs.length).toBeGreaterThan(10);
    const used = new Set(exprs.flatMap((e) => [...e.matchAll(/\btickwire_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|count|sum)$/, ""))));
    const exposed = new Set([...text.matchAll(/^# TYPE (tickwire_[a-z_]+) /gm)].map((m) => m[1]!));
    for (const name of used) expect(exposed, `dashboard uses ${name}`).toContain(name);
    for (const name of exposed) expect(used, `dashboard lacks ${name}`).toContain(name);
    // Grafana-importable: a datasource input and unique panel ids.
    expect(dashboard.__inputs[0].pluginId).toBe("prometheus");
    const ids = dashboard.panels.map((p: any) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
