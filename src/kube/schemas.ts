import { z } from 'zod';

/** What kubesmith reads of the API's objects: only the fields it depends on, the rest kept as is. */

const metadataSchema = z
  .object({
    name: z.string(),
    namespace: z.string().optional(),
    uid: z.string().optional(),
    resourceVersion: z.string().optional(),
    generation: z.number().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
    ownerReferences: z.array(z.object({ uid: z.string() }).loose()).optional(),
  })
  .loose();

export const kubeObjectSchema = z
  .object({ apiVersion: z.string(), kind: z.string(), metadata: metadataSchema })
  .loose();

/** A list's items carry no apiVersion and kind: the list's request names them. */
export const listOf = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item) }).loose();

export const listItemSchema = z.object({ metadata: metadataSchema }).loose();

export const conditionSchema = z
  .object({
    type: z.string(),
    status: z.string(),
    reason: z.string().optional(),
    message: z.string().optional(),
  })
  .loose();
export type Condition = z.output<typeof conditionSchema>;

export const daemonSetSchema = z
  .object({
    metadata: metadataSchema,
    spec: z
      .object({ selector: z.object({ matchLabels: z.record(z.string(), z.string()).optional() }).loose() })
      .loose(),
    status: z
      .object({
        desiredNumberScheduled: z.number().default(0),
        numberReady: z.number().default(0),
        updatedNumberScheduled: z.number().default(0),
        observedGeneration: z.number().default(0),
      })
      .loose()
      .prefault({}),
  })
  .loose();
export type DaemonSet = z.output<typeof daemonSetSchema>;

export const deploymentSchema = z
  .object({
    metadata: metadataSchema,
    spec: z
      .object({
        replicas: z.number().default(1),
        selector: z.object({ matchLabels: z.record(z.string(), z.string()).optional() }).loose(),
      })
      .loose(),
    status: z
      .object({
        replicas: z.number().default(0),
        updatedReplicas: z.number().default(0),
        availableReplicas: z.number().default(0),
        observedGeneration: z.number().default(0),
      })
      .loose()
      .prefault({}),
  })
  .loose();
export type Deployment = z.output<typeof deploymentSchema>;

const containerStateSchema = z
  .object({
    waiting: z.object({ reason: z.string().optional(), message: z.string().optional() }).loose().optional(),
    running: z.object({}).loose().optional(),
    terminated: z
      .object({ exitCode: z.number(), reason: z.string().optional(), message: z.string().optional() })
      .loose()
      .optional(),
  })
  .loose();
export type ContainerState = z.output<typeof containerStateSchema>;

const containerStatusSchema = z
  .object({
    name: z.string(),
    ready: z.boolean().default(false),
    restartCount: z.number().default(0),
    state: containerStateSchema.prefault({}),
    lastState: containerStateSchema.prefault({}),
  })
  .loose();

export const podSchema = z
  .object({
    metadata: metadataSchema,
    spec: z.object({ nodeName: z.string().optional() }).loose().prefault({}),
    status: z
      .object({
        phase: z.string().optional(),
        reason: z.string().optional(),
        message: z.string().optional(),
        conditions: z.array(conditionSchema).default([]),
        initContainerStatuses: z.array(containerStatusSchema).default([]),
        containerStatuses: z.array(containerStatusSchema).default([]),
      })
      .loose()
      .prefault({}),
  })
  .loose();
export type Pod = z.output<typeof podSchema>;

export const eventSchema = z
  .object({
    type: z.string().optional(),
    reason: z.string().optional(),
    message: z.string().optional(),
    involvedObject: z.object({ uid: z.string().optional() }).loose(),
    lastTimestamp: z.string().nullish(),
    eventTime: z.string().nullish(),
  })
  .loose();
export type KubeEvent = z.output<typeof eventSchema>;

export const taintSchema = z
  .object({
    key: z.string(),
    value: z.string().optional(),
    effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']),
  })
  .loose();

export const nodeSchema = z
  .object({
    metadata: metadataSchema,
    spec: z
      .object({ taints: z.array(taintSchema).default([]) })
      .loose()
      .prefault({}),
    status: z
      .object({ conditions: z.array(conditionSchema).default([]) })
      .loose()
      .prefault({}),
  })
  .loose();
export type NodeObject = z.output<typeof nodeSchema>;
