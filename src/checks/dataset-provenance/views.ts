import type { ProvenanceField } from '../../formats/provenance.js';

export type RecordKind = 'sidecar' | 'provenance' | 'dvc' | 'croissant' | 'hf-card';

/** A field as one record states it for one dataset. */
export interface Claim {
  values: string[];
  line?: number;
}

export interface DigestClaim {
  algo: 'sha256' | 'md5';
  hex: string;
  line?: number;
  /** DVC < 3.0 hashed text files with CRLF turned into LF. */
  legacyText?: boolean;
  /** A digest of a DVC-tracked directory listing: it records the content but cannot be checked here. */
  opaque?: boolean;
}

/** What one record says about one dataset. */
export interface RecordView {
  kind: RecordKind;
  /** Repository path of the record file. */
  path: string;
  fields: Partial<Record<Exclude<ProvenanceField, 'sha256'>, Claim>>;
  digests: DigestClaim[];
  /** Fields left as a placeholder (`TODO`). */
  placeholders: ProvenanceField[];
  /** Where a missing per-file digest belongs (a `files:` entry or the `files:` key). */
  digestAnchor?: number;
}

export const KIND_LABEL: Record<RecordKind, string> = {
  sidecar: 'sidecar record',
  provenance: 'PROVENANCE.yml',
  dvc: 'DVC file',
  croissant: 'Croissant file',
  'hf-card': 'Hugging Face dataset card',
};
