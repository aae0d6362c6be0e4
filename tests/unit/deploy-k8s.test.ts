// deploy/k8s: every manifest parses and validates against the Kubernetes (kubernetes-models) and
// KEDA (@kubernetes-models/keda) schemas, and what the pods run matches what Parley reads: the
// roles, the environment variables (schemas/runtime-config.ts), the probe routes and ports, the
// SIGTERM drain, the Dockerfile's user.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseAllDocuments, parse } from 'yaml';
import { v1, apps, policy, autoscaling } from 'kubernetes-models';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { RuntimeConfig } from '../../schemas/runtime-config.ts';
import { routeOf } from '../../read-api/http/metrics.ts';
import { ROOT, deployPath, exportedMetricNames, promqlMetricNames } from './deploy-support.ts';

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [k: string]: any };

// apiVersion/kind → the model class whose validate() checks the object against the schema.
const MODELS: Record<string, new (o: any) => { validate(): void }> = {
  'v1/Namespace': v1.Namespace, 'v1/ConfigMap': v1.ConfigMap, 'v1/Secret': v1.Secret, 'v1/Service': v1.Service,
  'apps/v1/Deployment': apps.v1.Deployment, 'policy/v1/PodDisruptionBudget': policy.v1.PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': autoscaling.v2.HorizontalPodAutoscaler, 'keda.sh/v1alpha1/ScaledObject': ScaledObject,
};
function validate(o: Obj): void {
  const Model = MODELS[`${o.apiVersion}/${o.kind}`];
  if (!Model) throw new Error(`no schema for ${o.apiVersion}/${o.kind}`);
  new Model(o).validate();
}

const K8S = deployPath('k8s');
const manifestFiles = readdirSync(K8S).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
function load(file: string): Obj[] {
  const docs = parseAllDocuments(readFileSync(`${K8S}/${file}`, 'utf8'));
  for (const d of docs) if (d.errors.length) throw new Error(`${file}: ${d.errors[0]!.message}`);
  return docs.map((d) => d.toJS() as Obj).filter(Boolean);
}
const kustomization = parse(readFileSync(`${K8S}/kustomization.yaml`, 'utf8')) as { resources: string[]; namespace: string };
const applied = kustomization.resources.flatMap(load);
const all = manifestFiles.flatMap(load);
const deployments = applied.filter((o) => o.kind === 'Deployment');
const ROLES = ['api', 'projector', 'saga', 'worker'];
const roleOf = (d: Obj) => { const a = d.spec.template.spec.containers[0].args as string[]; return a[a.indexOf('--role') + 1]!; };
const configMap = applied.find((o) => o.kind === 'ConfigMap')!;
const secret = applied.find((o) => o.kind === 'Secret')!;

test('every manifest validates against its Kubernetes or KEDA schema', () => {
  assert.ok(all.length >= 15, `only ${all.length} objects`);
  for (const o of all) assert.doesNotThrow(() => validate(o), (e: Error) => `${o.kind} ${o.metadata?.name}: ${e.message}`);
});

test('the validation catches a broken object (it is not a no-op)', () => {
  const broken = structuredClone(deployments[0]!);
  broken.spec.template.spec.containers[0].ports[0].containerPort = 'http';
  assert.throws(() => validate(broken), /containerPort must be integer/);
  const noScaleTarget = structuredClone(applied.find((o) => o.kind === 'ScaledObject')!);
  delete noScaleTarget.spec.scaleTargetRef;
  assert.throws(() => validate(noScaleTarget), /scaleTargetRef/);
  assert.throws(() => validate({ apiVersion: 'v9', kind: 'Nope', metadata: { name: 'x' } }), /no schema/);
});

// The schema validators accept unknown fields (as the API server does without strict field
// validation), so a misspelt field would pass. The models' TypeScript interfaces catch those:
// every object becomes an object literal typed with its interface, and tsc's excess-property
// check names any field the schema does not have.
const INTERFACES: Record<string, [string, string]> = {
  'v1/Namespace': ['kubernetes-models/v1/Namespace', 'INamespace'], 'v1/ConfigMap': ['kubernetes-models/v1/ConfigMap', 'IConfigMap'],
  'v1/Secret': ['kubernetes-models/v1/Secret', 'ISecret'], 'v1/Service': ['kubernetes-models/v1/Service', 'IService'],
  'apps/v1/Deployment': ['kubernetes-models/apps/v1/Deployment', 'IDeployment'],
  'policy/v1/PodDisruptionBudget': ['kubernetes-models/policy/v1/PodDisruptionBudget', 'IPodDisruptionBudget'],
  'autoscaling/v2/HorizontalPodAutoscaler': ['kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler', 'IHorizontalPodAutoscaler'],
  'keda.sh/v1alpha1/ScaledObject': ['@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject', 'IScaledObject'],
};
function typecheck(objects: Obj[]): string {
  const base = path.join(ROOT, 'tests', 'artifacts');
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(path.join(base, 'k8s-types-'));
  try {
    const used = [...new Set(objects.map((o) => `${o.apiVersion}/${o.kind}`))];
    const lines = used.map((k) => `import type { ${INTERFACES[k]![1]} } from '${INTERFACES[k]![0]}';`);
    objects.forEach((o, i) => lines.push(`export const o${i}: ${INTERFACES[`${o.apiVersion}/${o.kind}`]![1]} = ${JSON.stringify(o, null, 2)};`));
    writeFileSync(path.join(dir, 'manifests.ts'), lines.join('\n') + '\n');
    const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '--strict', '--skipLibCheck', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022', '--types', 'node', path.join(dir, 'manifests.ts')], { cwd: ROOT, encoding: 'utf8' });
    return r.status === 0 ? '' : r.stdout + r.stderr;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('no object has a field its schema lacks (tsc over the models\' interfaces)', () => {
  assert.equal(typecheck(all), '');
  const typo = structuredClone(deployments[0]!);
  typo.spec.template.spec.terminationGracePeriodSecond = 40;
  assert.match(typecheck([typo]), /terminationGracePeriodSecond/);
});

test('the kustomization lists every manifest but the HPA alternative, which replaces the ScaledObject', () => {
  assert.deepEqual([...kustomization.resources].sort(), manifestFiles.filter((f) => f !== 'hpa-worker.yaml').sort());
  const hpa = load('hpa-worker.yaml')[0]!;
  const scaled = applied.find((o) => o.kind === 'ScaledObject')!;
  assert.equal(hpa.spec.scaleTargetRef.name, scaled.spec.scaleTargetRef.name);
  assert.equal(scaled.spec.scaleTargetRef.name, deployments.find((d) => roleOf(d) === 'worker')!.metadata.name);
});

test('one Deployment per role, each running `parley serve --role <role>` (node bin/parley.mjs, what npx parley runs) from the one image', () => {
  const pkg = JSON.parse(readFileSync(`${ROOT}/package.json`, 'utf8')) as { bin: Record<string, string> };
  assert.equal(pkg.bin.parley, 'bin/parley.mjs');
  assert.deepEqual(deployments.map(roleOf).sort(), ROLES);
  const appTs = readFileSync(`${ROOT}/bin/app.ts`, 'utf8');
  for (const role of ROLES) assert.match(appTs, new RegExp(`ALL_ROLES[^\\n]*'${role}'`), `bin/app.ts has no role ${role}`);
  for (const d of deployments) {
    const c = d.spec.template.spec.containers;
    assert.equal(c.length, 1);
    assert.deepEqual(c[0].command, ['node', 'bin/parley.mjs']); // no npx: it does not pass SIGTERM on
    assert.deepEqual(c[0].args, ['serve', '--role', roleOf(d)]);
    assert.equal(c[0].image, 'parley');
  }
});

test('the Secret and ConfigMap carry only variables Parley reads, and the secrets it needs', () => {
  const known = new Set(Object.keys(RuntimeConfig.shape));
  assert.deepEqual(Object.keys(secret.stringData).sort(), ['DATABASE_URL', 'PARLEY_JWT_SECRET', 'PARLEY_MASTER_KEY', 'REDIS_URL']);
  const names = [...Object.keys(secret.stringData), ...Object.keys(configMap.data), ...deployments.flatMap((d) => (d.spec.template.spec.containers[0].env ?? []).map((e: { name: string }) => e.name))];
  assert.deepEqual(names.filter((n) => !known.has(n)), [], 'variables runtime-config.ts does not read');
  for (const d of deployments) {
    const from = d.spec.template.spec.containers[0].envFrom.map((e: any) => e.configMapRef?.name ?? e.secretRef?.name);
    assert.deepEqual(from, [configMap.metadata.name, secret.metadata.name]);
  }
  // values the config schema accepts (the secret's placeholders have the right shape too)
  const parsed = RuntimeConfig.safeParse({ ...configMap.data, ...secret.stringData });
  assert.ok(parsed.success, parsed.success ? '' : parsed.error.message);
});

test('probes hit /readyz and /healthz on the port the role serves them on', () => {
  assert.equal(routeOf('/readyz'), '/readyz');
  assert.equal(routeOf('/healthz'), '/healthz');
  for (const d of deployments) {
    const c = d.spec.template.spec.containers[0];
    // API processes serve on PORT; the other roles serve /metrics, /healthz, /readyz on PARLEY_METRICS_PORT.
    const portVar = roleOf(d) === 'api' ? 'PORT' : 'PARLEY_METRICS_PORT';
    const env = c.env.find((e: { name: string }) => e.name === portVar);
    assert.ok(env, `${d.metadata.name} sets no ${portVar}`);
    const port = c.ports.find((p: any) => p.containerPort === Number(env.value));
    assert.ok(port, `${d.metadata.name}: no containerPort ${env.value}`);
    assert.equal(c.readinessProbe.httpGet.path, '/readyz');
    assert.equal(c.livenessProbe.httpGet.path, '/healthz');
    for (const p of [c.readinessProbe, c.livenessProbe, c.startupProbe]) assert.equal(p.httpGet.port, port.name);
    assert.equal(d.spec.template.metadata.annotations['prometheus.io/port'], String(port.containerPort));
  }
});

test('the grace period covers the preStop pause, PARLEY_SHUTDOWN_GRACE_MS and closing', () => {
  const serve = readFileSync(`${ROOT}/bin/commands/serve.ts`, 'utf8');
  assert.match(serve, /process\.on\('SIGTERM', shutdown\)/);
  assert.match(serve, /await app\.drain\(\)/);
  const graceS = Number(configMap.data.PARLEY_SHUTDOWN_GRACE_MS) / 1000;
  assert.equal(graceS, RuntimeConfig.parse({}).PARLEY_SHUTDOWN_GRACE_MS / 1000, 'the ConfigMap states the default drain');
  for (const d of deployments) {
    const spec = d.spec.template.spec;
    const preStop = Number(spec.containers[0].lifecycle.preStop.exec.command[1]);
    assert.ok(spec.terminationGracePeriodSeconds >= preStop + graceS + 5, `${d.metadata.name}: ${spec.terminationGracePeriodSeconds}s < ${preStop}+${graceS}+5`);
  }
});

test('every Deployment has a Service and a PodDisruptionBudget selecting its pods', () => {
  const selects = (sel: Record<string, string>, labels: Record<string, string>) => Object.entries(sel).every(([k, v]) => labels[k] === v);
  for (const d of deployments) {
    const labels = d.spec.template.metadata.labels;
    assert.ok(selects(d.spec.selector.matchLabels, labels));
    const svc = applied.filter((o) => o.kind === 'Service' && selects(o.spec.selector, labels));
    assert.equal(svc.length, 1, `${d.metadata.name}: services`);
    for (const p of svc[0]!.spec.ports) assert.ok(d.spec.template.spec.containers[0].ports.some((c: any) => c.name === p.targetPort));
    const pdb = applied.filter((o) => o.kind === 'PodDisruptionBudget' && selects(o.spec.selector.matchLabels, labels));
    assert.equal(pdb.length, 1, `${d.metadata.name}: PDBs`);
  }
});

test('workers scale on a job-queue metric Parley exports', async () => {
  const exported = await exportedMetricNames();
  const scaled = applied.find((o) => o.kind === 'ScaledObject')!;
  const query = scaled.spec.triggers[0].metadata.query as string;
  assert.deepEqual(promqlMetricNames(query), ['parley_job_queue_depth']);
  assert.match(query, /status="queued"/);
  const hpa = load('hpa-worker.yaml')[0]!;
  assert.ok(exported.has(hpa.spec.metrics[0].external.metric.name));
  assert.ok(exported.has('parley_job_queue_depth'));
});

test('the Dockerfile: node:20-slim, onnxruntime install skipped, the non-root user the pods run as', () => {
  const df = readFileSync(`${ROOT}/Dockerfile`, 'utf8');
  assert.match(df, /^FROM node:20-slim$/m);
  assert.match(df, /ONNXRUNTIME_NODE_INSTALL=skip/);
  const user = /^USER (\d+):(\d+)$/m.exec(df);
  assert.ok(user && Number(user[1]) !== 0, 'USER must be a non-root uid');
  assert.match(df, /^ENTRYPOINT \["node", "bin\/parley.mjs"\]$/m);
  for (const d of deployments) {
    const sc = d.spec.template.spec.securityContext;
    assert.equal(sc.runAsNonRoot, true);
    assert.equal(String(sc.runAsUser), user[1]);
    assert.equal(configMap.data.PARLEY_HOME, d.spec.template.spec.containers[0].volumeMounts.find((m: any) => m.name === 'home').mountPath);
  }
});
