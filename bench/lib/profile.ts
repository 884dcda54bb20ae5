/**
 * Summarises V8 CPU profiles (node --cpu-prof) by self time: the top frames, and the same
 * samples grouped by where the code lives (a package, a Folio source file, node internals, GC).
 */
import fs from 'node:fs';
import path from 'node:path';
import { round } from './common.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

export interface ProfileSummary {
  samples: number;
  top: { share: string; frame: string }[];
  byArea: { share: string; area: string }[];
  /** Folio's own functions by total time (self + callees; a sample counts once per function however deep it recurses). */
  folioInclusive: { share: string; frame: string }[];
}

function areaOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1];
  if (url.startsWith('node:')) return 'node internals';
  const src = /\/(src|dist)\/(.+)$/.exec(url);
  if (src) return `folio ${src[2].replace(/\.js$/, '')}`;
  return url;
}

/**
 * Hits per node id: `hitCount`, or with `skipFirstMs` only the samples taken that long after the
 * profile started (server start-up, module loading and schema compilation left out).
 */
function hitsByNode(profile: { nodes: ProfileNode[]; samples?: number[]; timeDeltas?: number[] }, skipFirstMs: number): Map<number, number> {
  const hits = new Map<number, number>();
  if (skipFirstMs <= 0 || !profile.samples || !profile.timeDeltas) {
    for (const node of profile.nodes) hits.set(node.id, node.hitCount ?? 0);
    return hits;
  }
  let elapsedUs = 0;
  for (const [index, nodeId] of profile.samples.entries()) {
    elapsedUs += profile.timeDeltas[index] ?? 0;
    if (elapsedUs >= skipFirstMs * 1000) hits.set(nodeId, (hits.get(nodeId) ?? 0) + 1);
  }
  return hits;
}

function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url ? `${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(src|dist)\//, '$1/')}:${lineNumber + 1}` : '';
  return `${functionName || '(anonymous)'} ${where}`.trim();
}

export function summariseProfiles(dir: string, topN = 20, skipFirstMs = 0): ProfileSummary | undefined {
  if (!fs.existsSync(dir)) return undefined;
  const files = fs.readdirSync(dir).filter((name) => name.endsWith('.cpuprofile'));
  if (files.length === 0) return undefined;
  const byFrame = new Map<string, number>();
  const byArea = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let samples = 0;
  for (const file of files) {
    const profile = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as { nodes: ProfileNode[]; samples?: number[]; timeDeltas?: number[] };
    const hitsOf = hitsByNode(profile, skipFirstMs);
    const parentOf = new Map<number, ProfileNode>();
    for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node);
    for (const node of profile.nodes) {
      const hits = hitsOf.get(node.id) ?? 0;
      if (hits === 0) continue;
      const { functionName, url } = node.callFrame;
      if (functionName === '(idle)') continue;
      samples += hits;
      const frame = frameName(node);
      byFrame.set(frame, (byFrame.get(frame) ?? 0) + hits);
      const area = areaOf(url, functionName);
      byArea.set(area, (byArea.get(area) ?? 0) + hits);
      const seen = new Set<string>();
      for (let ancestor: ProfileNode | undefined = node; ancestor; ancestor = parentOf.get(ancestor.id)) {
        if (!/\/(src|dist)\//.test(ancestor.callFrame.url) || ancestor.callFrame.url.includes('node_modules')) continue;
        const name = frameName(ancestor);
        if (seen.has(name)) continue;
        seen.add(name);
        inclusive.set(name, (inclusive.get(name) ?? 0) + hits);
      }
    }
  }
  const share = (hits: number) => `${round((100 * hits) / samples, 1)}%`;
  const sorted = (map: Map<string, number>) => [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, topN);
  return {
    samples,
    top: sorted(byFrame).map(([frame, hits]) => ({ share: share(hits), frame })),
    byArea: sorted(byArea).map(([area, hits]) => ({ share: share(hits), area })),
    folioInclusive: sorted(inclusive).map(([frame, hits]) => ({ share: share(hits), frame })),
  };
}
