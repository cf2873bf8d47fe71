import { isDeepStrictEqual } from 'node:util';
import type { z } from 'zod';
import type { KubeHttp, ObjectRef } from './http.js';
import { expectOk, readOk } from './responses.js';
import { kubeObjectSchema, listItemSchema, listOf } from './schemas.js';
import type { ApplyResult, KubeObject } from './types.js';

/** The field manager of everything kubesmith applies. */
const FIELD_MANAGER = 'kubesmith';

const describeRef = (ref: ObjectRef) =>
  `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name ?? ''}`.trim();

/** The object at path read with schema, or undefined when the apiserver has none (404). */
export async function readIfExists<T>(
  http: KubeHttp,
  path: string,
  schema: z.ZodType<T>,
  what: string,
): Promise<T | undefined> {
  const response = await http.send({ method: 'GET', path });
  return response.status === 404 ? undefined : readOk(schema, response, `read ${what}`);
}

export async function getObject(http: KubeHttp, ref: ObjectRef): Promise<KubeObject | undefined> {
  return readIfExists(http, await http.pathOf(ref), kubeObjectSchema, describeRef(ref));
}

export async function listObjects(
  http: KubeHttp,
  ref: ObjectRef,
  labelSelector?: string,
): Promise<KubeObject[]> {
  const response = await http.send({
    method: 'GET',
    path: await http.pathOf({ ...ref, name: undefined }),
    ...(labelSelector ? { query: { labelSelector } } : {}),
  });
  const list = readOk(listOf(listItemSchema), response, `list ${ref.kind} of ${ref.apiVersion}`);
  return list.items.map((item) => ({ ...item, apiVersion: ref.apiVersion, kind: ref.kind }));
}

export async function deleteObject(http: KubeHttp, ref: ObjectRef): Promise<boolean> {
  const response = await http.send({ method: 'DELETE', path: await http.pathOf(ref) });
  if (response.status === 404) return false;
  expectOk(response, `delete ${describeRef(ref)}`);
  return true;
}

const refOf = (object: KubeObject): ObjectRef => ({
  apiVersion: object.apiVersion,
  kind: object.kind,
  name: object.metadata.name,
  namespace: object.metadata.namespace,
});

/** The object without what an apply may change while its content stays the same. */
/** What kubesmith declares of an object: not its bookkeeping, not its status (controllers write that any time). */
function content(object: KubeObject): KubeObject {
  const { managedFields: _, resourceVersion: __, ...metadata } = object.metadata;
  const { status: ___, ...rest } = object;
  return { ...rest, metadata: metadata as KubeObject['metadata'] };
}

/**
 * Server-side apply of one object, forcing conflicts; created, changed or unchanged by its
 * resourceVersion before and after (an apply that changes nothing does not write). A write that
 * changed only ownership counts as unchanged: an object that owned no field besides its name (a
 * bare Namespace) has no managedFields, and the next apply adds them.
 */
async function applyObject(http: KubeHttp, object: KubeObject): Promise<ApplyResult> {
  const ref = refOf(object);
  const path = await http.pathOf(ref);
  const previous = await readIfExists(http, path, kubeObjectSchema, describeRef(ref));
  const response = await http.send({
    method: 'PATCH',
    path,
    query: { fieldManager: FIELD_MANAGER, force: 'true' },
    body: { contentType: 'application/apply-patch+yaml', text: JSON.stringify(object) },
  });
  const applied = readOk(kubeObjectSchema, response, `apply ${describeRef(ref)}`);
  const { name, namespace, resourceVersion } = applied.metadata;
  let action: ApplyResult['action'] = 'created';
  if (previous)
    action =
      previous.metadata.resourceVersion === resourceVersion ||
      isDeepStrictEqual(content(previous), content(applied))
        ? 'unchanged'
        : 'changed';
  return { kind: applied.kind, ...(namespace ? { namespace } : {}), name, action };
}

/** Applies the objects one after the other, in the order given (a Namespace or CRD before what needs it). */
export async function applyObjects(http: KubeHttp, objects: KubeObject[]): Promise<ApplyResult[]> {
  const results: ApplyResult[] = [];
  for (const object of objects) results.push(await applyObject(http, object));
  return results;
}
