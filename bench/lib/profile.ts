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
}

export interface ProfileSummary {
  samples: number;
  top: { share: string; frame: string }[];
  byArea: { share: string; area: string }[];
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

export function summariseProfiles(dir: string, topN = 20): ProfileSummary | undefined {
  if (!fs.existsSync(dir)) return undefined;
  const files = fs.readdirSync(dir).filter((name) => name.endsWith('.cpuprofile'));
  if (files.length === 0) return undefined;
  const byFrame = new Map<string, number>();
  const byArea = new Map<string, number>();
  let samples = 0;
  for (const file of files) {
    const profile = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as { nodes: ProfileNode[] };
    for (const node of profile.nodes) {
      const hits = node.hitCount ?? 0;
      if (hits === 0) continue;
      const { functionName, url, lineNumber } = node.callFrame;
      if (functionName === '(idle)') continue;
      samples += hits;
      const where = url ? `${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(src|dist)\//, '$1/')}:${lineNumber + 1}` : '';
      const frame = `${functionName || '(anonymous)'} ${where}`.trim();
      byFrame.set(frame, (byFrame.get(frame) ?? 0) + hits);
      const area = areaOf(url, functionName);
      byArea.set(area, (byArea.get(area) ?? 0) + hits);
    }
  }
  const share = (hits: number) => `${round((100 * hits) / samples, 1)}%`;
  const sorted = (map: Map<string, number>) => [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, topN);
  return {
    samples,
    top: sorted(byFrame).map(([frame, hits]) => ({ share: share(hits), frame })),
    byArea: sorted(byArea).map(([area, hits]) => ({ share: share(hits), area })),
  };
}
