/**
 * Configurations that work but deserve a warning at start: a tier whose size
 * limit is below the largest record the bus accepts (such records skip it),
 * and a spool chain that ends in a spool that can fail for a reason a local
 * one would not (nothing behind it).
 */
import { defaultRegistry, type TierRegistry } from '../../adapters/registry.js';
import { KINESIS_MAX_RECORD_BYTES } from '../envelope/index.js';
import type { BusConfig } from './schema.js';

/** One start-up warning: the field it concerns and a sentence saying what it means and what to do. */
export interface ConfigWarning {
  field: string;
  message: string;
}

/** The largest record the bus accepts, in bytes (encoded envelope plus partition key). */
export const BUS_MAX_RECORD_BYTES = KINESIS_MAX_RECORD_BYTES;

const kib = (n: number): string => `${Math.round(n / 1024)} KiB`;

/** Every warning for a parsed configuration. */
export function configWarnings(config: BusConfig, registry: TierRegistry = defaultRegistry): ConfigWarning[] {
  const warnings: ConfigWarning[] = [];
  const tiers = [['primary', config.primary] as const, ...config.secondaries.map((t, i) => [`secondaries.${i}`, t] as const)];
  for (const [field, tier] of tiers) {
    const descriptor = registry.targets.find((d) => d.kind === tier.kind);
    if (!descriptor || descriptor.maxRecordBytes >= BUS_MAX_RECORD_BYTES) continue;
    warnings.push({
      field,
      message:
        `${field} (${descriptor.describe(tier)}) takes records up to ${kib(descriptor.maxRecordBytes)}, below the ${kib(BUS_MAX_RECORD_BYTES)} the bus accepts: ` +
        'larger records skip this tier and go to the next one (a bus.oversize event says when)',
    });
  }
  const last = config.spools.at(-1);
  const lastDescriptor = last && registry.spools.find((d) => d.kind === last.kind);
  if (last && lastDescriptor?.remote) {
    const field = config.spools.length === 1 ? 'spool' : `spool.${config.spools.length - 1}`;
    warnings.push({
      field,
      message:
        `the spool chain ends in ${lastDescriptor.describe(last)}, which can fail (network, restart) with nothing behind it: ` +
        'when it does, sends fail. Add a disk spool after it, e.g. spool: [{ kind: "redis", … }, { kind: "disk", dir }]',
    });
  }
  return warnings;
}
