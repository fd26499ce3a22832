/** Configuration of the EventBridge tier, as a zod schema. */
import { z } from 'zod';
import { credentialsSchema, drainTuningSchema, endpointSchema, queueUrlSchema, regionSchema } from '../sqs/schema.js';

/** A bus name (or ARN), as EventBridge allows it. */
const eventBusName = z
  .string({ error: 'eventBusName is required: the event bus records are put on, e.g. "spillway-failover"' })
  .regex(/^(arn:aws[\w-]*:events:[a-z0-9-]+:\d{12}:event-bus\/)?[/.\-_A-Za-z0-9]{1,256}$/, {
    error: 'eventBusName must be a bus name (letters, digits, ".", "-", "_", "/") or an event bus ARN',
  });

/** The queue an EventBridge rule on the bus delivers spillway's events to; the reconciler drains it. */
export const drainQueueSchema = z
  .object({
    queueUrl: queueUrlSchema,
    endpoint: endpointSchema.optional(),
    ...drainTuningSchema,
  })
  .strict();

/** An EventBridge bus as a remote tier. */
export const eventBridgeTierSchema = z
  .object({
    kind: z.literal('eventbridge'),
    region: regionSchema,
    eventBusName,
    endpoint: endpointSchema.optional(),
    credentials: credentialsSchema.optional(),
    /** `Source` of the events (default `spillway`); a rule matches on it. */
    source: z
      .string()
      .regex(/^[A-Za-z0-9._\-/]{1,256}$/, { error: 'source must be 1-256 letters, digits, ".", "_", "-" or "/", e.g. "com.example.orders"' })
      .optional(),
    /** `DetailType` of the events (default `spillway.record`). */
    detailType: z
      .string()
      .regex(/^[\x20-\x7e]{1,128}$/, { error: 'detailType must be 1-128 printable ASCII characters' })
      .optional(),
    /** Abort a call that has not answered after this long (default 2000 ms). */
    requestTimeoutMs: z.number().int().positive().optional(),
    drainQueue: drainQueueSchema,
  })
  .strict();

/** The EventBridge tier's configuration. */
export type EventBridgeTierConfig = z.infer<typeof eventBridgeTierSchema>;

/** The bus name of a name or ARN. */
export function busNameOf(eventBusName: string): string {
  return eventBusName.includes(':event-bus/') ? (eventBusName.split(':event-bus/')[1] as string) : eventBusName;
}
