export type { Envelope, RecordInput, RecordKind, ContentType } from './types.js';
export { encodeEnvelope, decodeEnvelope, encodedSize, isEnvelopeBytes, payloadOf } from './codec.js';
export { createStamper, type Stamper, type StamperOptions, type Clock } from './stamp.js';
export * from './limits.js';
