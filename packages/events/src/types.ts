// TypeScript shapes of the Avro records (see schemas/*.avsc). Property bags travel as JSON text.

export type GroupsMap = Record<string, string[]>;

export interface IngestRecord {
  kind: 'event' | 'identify';
  project_id: number;
  uuid: string;
  receive_time: number;
  event_time: number;
  event_type: string;
  user_id: string | null;
  device_id: string | null;
  insert_id: string | null;
  session_id: number | null;
  event_id: number | null;
  event_properties: string;
  user_properties: string;
  groups: GroupsMap;
  context: Record<string, string>;
  revenue: number | null;
  price: number | null;
  quantity: number | null;
  location_lat: number | null;
  location_lng: number | null;
  extra: string;
  /**
   * Receive position: the accepting gateway's clock in microseconds, strictly increasing per producer in the
   * order records were accepted (request order within a request). Absent or 0: unordered (an older producer).
   */
  receive_pos?: number;
  /** the gateway instance that assigned receive_pos ('' or absent: unordered) */
  producer_id?: string;
}

/** Who sent a group identify: the ingestion API, a dynamic group property, the Salesforce sync, or a health score. */
export type GroupIdentifySource = 'api' | 'dynamic_property' | 'salesforce' | 'health_score';

export interface GroupIdentifyRecord {
  project_id: number;
  uuid: string;
  receive_time: number;
  event_time: number;
  group_type: string;
  group_value: string;
  group_properties: string;
  source: GroupIdentifySource;
  user_id: string | null;
  device_id: string | null;
  insert_id: string | null;
  /**
   * Receive position: the accepting gateway's clock in microseconds, strictly increasing per producer in the
   * order records were accepted (request order within a request). Absent or 0: unordered (an older producer).
   */
  receive_pos?: number;
  /** the gateway instance that assigned receive_pos ('' or absent: unordered) */
  producer_id?: string;
}

export interface GroupSnapshot {
  group_type: string;
  group_value: string;
  properties: string;
}

export interface EnrichedEvent {
  project_id: number;
  uuid: string;
  receive_time: number;
  event_time: number;
  event_type: string;
  user_id: string | null;
  device_id: string | null;
  insert_id: string | null;
  session_id: number | null;
  event_id: number | null;
  event_properties: string;
  user_properties: string;
  groups: GroupsMap;
  group_properties: GroupSnapshot[];
  context: Record<string, string>;
  revenue: number | null;
  price: number | null;
  quantity: number | null;
  location_lat: number | null;
  location_lng: number | null;
  extra: string;
}

export interface GroupChange {
  project_id: number;
  group_type: string;
  group_value: string;
  event_time: number;
  receive_time: number;
  properties: string;
  changed: string[];
  removed: string[];
  source_uuid: string;
  /** the group identify's source; '' (or absent: encoded as '') for changes written before sources were recorded */
  source?: GroupIdentifySource | '';
}
