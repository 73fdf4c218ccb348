// Safetensors errors: the typed SafetensorsError every reader/writer failure is reported as.
// A message always names the file (or "<bytes>" when parsing an anonymous buffer), the tensor
// when one is involved, and what is wrong.

/** Machine-readable reason for a SafetensorsError. */
export type SafetensorsErrorCode =
  | 'header_too_small'
  | 'header_too_large'
  | 'invalid_header_length'
  | 'invalid_utf8'
  | 'invalid_json'
  | 'invalid_header'
  | 'invalid_metadata'
  | 'invalid_dtype'
  | 'invalid_shape'
  | 'invalid_offsets'
  | 'overlapping_offsets'
  | 'incomplete_buffer'
  | 'size_mismatch'
  | 'invalid_name'
  | 'invalid_data'
  | 'unsupported_conversion'
  | 'value_out_of_range'
  | 'io';

/** Context of a SafetensorsError: the file or label (`source`), the tensor name, and the underlying error. */
export interface SafetensorsErrorInit {
  /** The file or label being read or written. */
  source?: string | undefined;
  /** The tensor at fault. */
  tensor?: string | undefined;
  /** The underlying error. */
  cause?: unknown;
}

/** Every failure of the safetensors reader/writer/decoders is thrown as this error. */
export class SafetensorsError extends Error {
  /** What kind of failure (see SafetensorsErrorCode). */
  readonly code: SafetensorsErrorCode;
  /** File path (or caller-given label) of the data; undefined for anonymous buffers. */
  readonly source: string | undefined;
  /** Tensor the problem concerns, if any. */
  readonly tensor: string | undefined;

  constructor(code: SafetensorsErrorCode, detail: string, init: SafetensorsErrorInit = {}) {
    const where = `safetensors ${init.source !== undefined ? `file "${init.source}"` : '<bytes>'}`;
    const what = init.tensor !== undefined ? `, tensor ${JSON.stringify(init.tensor)}` : '';
    super(`${where}${what}: ${detail}`, init.cause !== undefined ? { cause: init.cause } : undefined);
    this.name = 'SafetensorsError';
    this.code = code;
    this.source = init.source;
    this.tensor = init.tensor;
  }
}
