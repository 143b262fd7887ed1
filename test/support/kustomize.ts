// Renders the subset of kustomize that deploy/kubernetes uses (resources, namespace, labels,
// images), so tests can check what `kubectl apply -k` would send without a cluster or the
// kustomize binary. Any other kustomization field fails loudly rather than render wrongly.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments, parse } from 'yaml';

export type Manifest = Record<string, any> & { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> } };

const SUPPORTED = new Set(['apiVersion', 'kind', 'namespace', 'labels', 'resources', 'images']);
const CLUSTER_SCOPED = new Set(['Namespace', 'PersistentVolume', 'StorageClass', 'ClusterRole', 'ClusterRoleBinding']);
/** Kinds whose pod templates kustomize's image transformer rewrites. */
const POD_TEMPLATE_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job']);

interface Kustomization {
  namespace?: string;
  labels?: Array<{ pairs: Record<string, string>; includeSelectors?: boolean; includeTemplates?: boolean }>;
  resources: string[];
  images?: Array<{ name: string; newName?: string; newTag?: string }>;
}

export async function renderKustomization(dir: string): Promise<Manifest[]> {
  const k = parse(await readFile(join(dir, 'kustomization.yaml'), 'utf8')) as Kustomization;
  const unknown = Object.keys(k).filter((key) => !SUPPORTED.has(key));
  if (unknown.length > 0) throw new Error(`kustomization fields this renderer does not implement: ${unknown.join(', ')}`);

  const out: Manifest[] = [];
  for (const file of k.resources) {
    for (const doc of parseAllDocuments(await readFile(join(dir, file), 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
      const m = doc.toJS() as Manifest | null;
      if (m) out.push(m);
    }
  }
  for (const m of out) {
    if (k.namespace && !CLUSTER_SCOPED.has(m.kind)) m.metadata.namespace = k.namespace;
    for (const l of k.labels ?? []) {
      if (l.includeSelectors || l.includeTemplates) throw new Error('labels.includeSelectors/includeTemplates are not implemented');
      m.metadata.labels = { ...m.metadata.labels, ...l.pairs };
    }
    if (POD_TEMPLATE_KINDS.has(m.kind)) {
      for (const c of [...(m.spec.template.spec.containers ?? []), ...(m.spec.template.spec.initContainers ?? [])]) {
        const [name, tag] = String(c.image).split(':');
        const rule = k.images?.find((i) => i.name === name);
        if (rule) c.image = `${rule.newName ?? name}:${rule.newTag ?? tag ?? 'latest'}`;
      }
    }
  }
  return out;
}
