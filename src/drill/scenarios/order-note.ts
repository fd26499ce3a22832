/** Why most failover scenarios report per-key order instead of judging it, until failback waits for the drain. */
export const FAILBACK_ORDER_NOTE =
  "Per-key order is reported, not judged: the reconciler in this build fails back as soon as the primary answers, so live writes of a key can reach the primary before that key's backlog.";
