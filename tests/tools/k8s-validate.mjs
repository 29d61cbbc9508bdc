// Validates rendered Kubernetes manifests (multi-document YAML on stdin) against the published schemas: Kubernetes'
// own (kubernetes-models), KEDA's, the Prometheus operator's, the Gateway API's and Istio's. Every object must be of a known
// kind: an unknown one is an error, not a pass. With --rules FILE, each PrometheusRule's groups must equal the
// groups of that Prometheus rule file; with --json FILE, the objects are written there as a JSON array for the
// tests' own checks. A CustomResourceDefinition in the input is validated as such and then validates the objects of
// its kind against its OpenAPI schema (with ajv, the schema's OpenAPI 3.0 forms turned into JSON Schema's).
// Prints one line per object; exits 1 on any failure.
import { readFileSync, writeFileSync } from 'node:fs';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { isDeepStrictEqual } from 'node:util';
import { parseAllDocuments, parse } from 'yaml';

const modules = {
  'v1': 'kubernetes-models/v1',
  'apps/v1': 'kubernetes-models/apps/v1',
  'batch/v1': 'kubernetes-models/batch/v1',
  'policy/v1': 'kubernetes-models/policy/v1',
  'autoscaling/v2': 'kubernetes-models/autoscaling/v2',
  'networking.k8s.io/v1': 'kubernetes-models/networking.k8s.io/v1',
  'node.k8s.io/v1': 'kubernetes-models/node.k8s.io/v1',
  'rbac.authorization.k8s.io/v1': 'kubernetes-models/rbac.authorization.k8s.io/v1',
  'apiextensions.k8s.io/v1': 'kubernetes-models/apiextensions.k8s.io/v1',
  'keda.sh/v1alpha1': '@kubernetes-models/keda/keda.sh/v1alpha1',
  'monitoring.coreos.com/v1': '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1',
  'gateway.networking.k8s.io/v1': '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1',
  'gateway.networking.k8s.io/v1beta1': '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1beta1',
  'networking.istio.io/v1beta1': '@kubernetes-models/istio/networking.istio.io/v1beta1',
  'security.istio.io/v1beta1': '@kubernetes-models/istio/security.istio.io/v1beta1',
};

const args = process.argv.slice(2);
const rulesFile = args.includes('--rules') ? args[args.indexOf('--rules') + 1] : null;
const expectedGroups = rulesFile ? parse(readFileSync(rulesFile, 'utf8')).groups : null;
const jsonFile = args.includes('--json') ? args[args.indexOf('--json') + 1] : null;
const documents = parseAllDocuments(readFileSync(0, 'utf8'));
const objects = [];
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
const customKinds = new Map();

// OpenAPI 3.0 (as CRDs write it) to JSON Schema: a boolean exclusiveMinimum/Maximum qualifies minimum/maximum, and
// Kubernetes' own x- keywords (list types, CEL rules) are for the API server alone.
function jsonSchema(node) {
  if (Array.isArray(node)) return node.map(jsonSchema);
  if (node === null || typeof node !== 'object') return node;
  const out = {};
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith('x-kubernetes-')) continue;
    if (key === 'exclusiveMinimum' && typeof value === 'boolean') continue;
    if (key === 'exclusiveMaximum' && typeof value === 'boolean') continue;
    out[key] = key === 'properties' ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonSchema(v)])) : jsonSchema(value);
  }
  if (node.exclusiveMinimum === true) { out.exclusiveMinimum = node.minimum; delete out.minimum; }
  if (node.exclusiveMaximum === true) { out.exclusiveMaximum = node.maximum; delete out.maximum; }
  return out;
}

function registerCustomKinds(crd) {
  for (const version of crd.spec.versions) {
    const validate = ajv.compile(jsonSchema(version.schema.openAPIV3Schema));
    customKinds.set(`${crd.spec.group}/${version.name} ${crd.spec.names.kind}`, validate);
  }
}
let failures = 0;
for (const document of documents) {
  if (document.errors.length > 0) {
    console.log(`error yaml: ${document.errors[0].message}`);
    failures++;
    continue;
  }

  const object = document.toJSON();
  if (object === null) {
    continue;
  }

  objects.push(object);
  const name = `${object.kind} ${object.metadata?.name}`;
  const custom = customKinds.get(`${object.apiVersion} ${object.kind}`);
  if (custom) {
    if (custom(object)) {
      console.log(`ok ${name}`);
    } else {
      console.log(`error ${name}: ${custom.errors.slice(0, 3).map((e) => `${e.instancePath} ${e.message}`).join('; ')}`);
      failures++;
    }
    continue;
  }

  const module = modules[object.apiVersion];
  if (!module) {
    console.log(`error ${name}: no schema for apiVersion ${object.apiVersion}`);
    failures++;
    continue;
  }

  const models = await import(module);
  const Model = models[object.kind];
  if (!Model) {
    console.log(`error ${name}: no schema for kind ${object.kind} in ${object.apiVersion}`);
    failures++;
    continue;
  }

  try {
    new Model(object).validate();
    if (object.kind === 'PrometheusRule' && expectedGroups && !isDeepStrictEqual(object.spec.groups, expectedGroups)) {
      throw new Error(`its groups differ from ${rulesFile}`);
    }

    if (object.kind === 'CustomResourceDefinition') {
      registerCustomKinds(object);
    }

    console.log(`ok ${name}`);
  } catch (error) {
    console.log(`error ${name}: ${error.message.split('\n').slice(0, 3).join(' ')}`);
    failures++;
  }
}

if (jsonFile) {
  writeFileSync(jsonFile, JSON.stringify(objects));
}

process.exit(failures === 0 && objects.length > 0 ? 0 : 1);
