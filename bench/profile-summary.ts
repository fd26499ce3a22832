/**
 * Summarise a V8 CPU profile (`node --cpu-prof`): self time by function and
 * by area (spillway's modules, the AWS SDK, Node internals, GC).
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/fake-throughput.ts
 *   npx tsx bench/profile-summary.ts /tmp/prof/CPU.*.cpuprofile [top]
 */
import { readFileSync } from 'node:fs';
import { fmt, isMain, table } from './lib.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The area a frame belongs to, by its URL. */
export function areaOf(url: string, name: string): string {
  if (name === '(garbage collector)') return 'garbage collection';
  if (name === '(idle)' || name === '(program)') return name;
  const spillway = /\/(src|adapters)\/([a-z-]+)\//.exec(url);
  if (spillway && !url.includes('node_modules')) return `spillway ${spillway[1]}/${spillway[2]}`;
  const pkg = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return (pkg[1] as string).startsWith('@aws-sdk') || (pkg[1] as string).startsWith('@smithy') ? 'AWS SDK (@aws-sdk, @smithy)' : `package ${pkg[1]}`;
  if (url.startsWith('node:') || url === '') return 'Node internals and natives';
  return 'other';
}

/** Self time per function and per area, in ms, largest first. */
export function summarise(profile: Profile): { total: number; byFunction: Array<[string, number]>; byArea: Array<[string, number]> } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const fn = new Map<string, number>();
  const area = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    const node = byId.get(id);
    if (!node) return;
    const { functionName, url, lineNumber } = node.callFrame;
    const a = areaOf(url, functionName);
    if (a === '(idle)') return;
    total += ms;
    const where = url ? `${url.replace(/^.*\/(node_modules|src|adapters)\//, '$1/')}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'} ${where}`.trim();
    fn.set(key, (fn.get(key) ?? 0) + ms);
    area.set(a, (area.get(a) ?? 0) + ms);
  });
  const sorted = (m: Map<string, number>): Array<[string, number]> => [...m].sort((x, y) => y[1] - x[1]);
  return { total, byFunction: sorted(fn), byArea: sorted(area) };
}

if (isMain(import.meta.url)) {
  const [file, top = '25'] = process.argv.slice(2);
  if (!file) throw new Error('usage: npx tsx bench/profile-summary.ts <file.cpuprofile> [top]');
  const s = summarise(JSON.parse(readFileSync(file, 'utf8')) as Profile);
  const pct = (ms: number): string => `${fmt((100 * ms) / s.total, 1)} %`;
  console.log(table(`Self time by area (${fmt(s.total)} ms busy)`, ['area', 'ms', 'share'], s.byArea.map(([k, v]) => [k, fmt(v), pct(v)])));
  console.log(table(`Top ${top} functions by self time`, ['function', 'ms', 'share'], s.byFunction.slice(0, Number(top)).map(([k, v]) => [k, fmt(v), pct(v)])));
}
