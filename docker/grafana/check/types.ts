// The types the dashboards are checked against: Grafana's published schema (@grafana/schema,
// the same version as the Grafana image in docker/docker-compose.yml), as JSON carries it.
import type { DataQuery, Dashboard, FieldConfig, FieldConfigSource, Panel } from '@grafana/schema';
import type * as StatCfg from '@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen';
import type * as TableCfg from '@grafana/schema/dist/esm/raw/composable/table/panelcfg/x/TablePanelCfg_types.gen';
import type * as TimeSeriesCfg from '@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen';

// A type as it appears in JSON: a string enum becomes the union of its values ("list",
// "table", ...), everything else keeps its shape (optional and required keys included).
export type Json<T> = T extends string
  ? `${T}`
  : T extends ReadonlyArray<infer U>
    ? Array<Json<U>>
    : T extends object
      ? { [K in keyof T]: Json<T[K]> }
      : T;

// The query of a Prometheus data source. @grafana/schema no longer ships the Prometheus
// data query (it moved to the Prometheus plugin), so its fields are listed here as Grafana's
// Prometheus plugin defines them; the common part is @grafana/schema's DataQuery.
export interface PrometheusQuery extends DataQuery {
  expr: string;
  legendFormat?: string;
  editorMode?: 'code' | 'builder';
  range?: boolean;
  instant?: boolean;
  format?: 'time_series' | 'table' | 'heatmap';
  interval?: string;
  intervalFactor?: number;
  exemplar?: boolean;
}

// A panel of one plugin: its options and its fieldConfig.defaults.custom checked against
// that plugin's published schema, its targets against PrometheusQuery.
export type PluginPanel<Type extends string, Options, Custom> = Omit<
  Panel,
  'type' | 'options' | 'fieldConfig' | 'targets'
> & {
  type: Type;
  options: Options;
  fieldConfig: Omit<FieldConfigSource, 'defaults'> & {
    defaults: Omit<FieldConfig, 'custom'> & { custom?: Custom };
  };
  targets: PrometheusQuery[];
};

export type TimeSeriesPanel = Json<PluginPanel<'timeseries', TimeSeriesCfg.Options, TimeSeriesCfg.FieldConfig>>;
export type StatPanel = Json<PluginPanel<'stat', StatCfg.Options, Record<string, never>>>;
export type TablePanel = Json<PluginPanel<'table', TableCfg.Options, TableCfg.FieldConfig>>;
export type DashboardJson = Json<Dashboard>;
