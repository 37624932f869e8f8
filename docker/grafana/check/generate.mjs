// Writes generated/dashboards.ts: each dashboard of ../dashboards as a typed object literal,
// and each of its panels again typed by its plugin, so that `tsc --noEmit` checks them against
// Grafana's schema, unknown keys included (excess property checks).
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';

const panelTypes = { timeseries: 'TimeSeriesPanel', stat: 'StatPanel', table: 'TablePanel' };
const dashboards = new URL('../dashboards/', import.meta.url);
const out = ["import type { DashboardJson, StatPanel, TablePanel, TimeSeriesPanel } from '../types';", ''];
const files = readdirSync(dashboards).filter((f) => f.endsWith('.json')).sort();
if (files.length === 0) throw new Error('no dashboard JSON in docker/grafana/dashboards');
files.forEach((file, n) => {
  const dashboard = JSON.parse(readFileSync(new URL(file, dashboards), 'utf8'));
  out.push(`// ${file}`);
  out.push(`export const dashboard${n}: DashboardJson = ${JSON.stringify(dashboard, null, 2)};`);
  const panels = (dashboard.panels ?? []).flatMap((p) => (p.type === 'row' ? p.panels : [p]));
  for (const panel of panels) {
    const type = panelTypes[panel.type];
    if (!type) throw new Error(`${file}: panel ${panel.id} has type ${panel.type}, which this check has no schema for`);
    out.push(`export const dashboard${n}Panel${panel.id}: ${type} = ${JSON.stringify(panel, null, 2)};`);
  }
  out.push('');
});
mkdirSync(new URL('generated/', import.meta.url), { recursive: true });
writeFileSync(new URL('generated/dashboards.ts', import.meta.url), out.join('\n'));
console.log(`generated/dashboards.ts: ${files.join(', ')}`);
