export type { Envelope, RecordInput, RecordKind, ContentType } from './types.js';
export { encodeEnvelope, encodeEnvelopeForKinesis, decodeEnvelope, encodedSize, kinesisRecordSize, isEnvelopeBytes, payloadOf } from './codec.js';
export { encodeEnvelopeV1 } from './codec-v1.js';
export { createStamper, type Stamper, type StamperOptions, type Clock } from './stamp.js';
export * from './limits.js';
