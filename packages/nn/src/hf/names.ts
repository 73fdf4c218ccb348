// Name mapping between transformers' state-dict names and webgrad's, one rule per tensor kind,
// with `{i}` standing for a layer index, and the typed error every HF loader/saver throws.
import { ValueError } from '@webgrad/core';
import type { SafeTensorInput } from '../safetensors/index.js';

/** A checkpoint or config.json that webgrad cannot read as the model it claims to be, or a model
 *  that cannot be written in HF's layout. The message names the file and the key. */
export class HFCheckpointError extends ValueError {}

/** A model (or adapter) in HF's layout, in memory: its JSON config and its tensors under HF's names. */
export interface HFModelFiles {
  /** config.json (adapter_config.json for a PEFT adapter). */
  config: Record<string, unknown>;
  /** Tensors for serializeSafetensors / writeSafetensorsFile (model.safetensors, adapter_model.safetensors). */
  tensors: Record<string, SafeTensorInput>;
}

/** One tensor kind: its name in transformers and in webgrad. */
export interface HFNameRule {
  /** transformers' name, `{i}` for a layer index, e.g. `transformer.h.{i}.attn.c_attn.weight`. */
  readonly hf: string;
  /** webgrad's stateDict name, e.g. `h.{i}.attn.cAttn.weight`. */
  readonly webgrad: string;
  /** Stored transposed in HF files: GPT-2's Conv1D keeps weights as [in, out], Linear as [out, in]. */
  readonly transpose?: boolean;
}

/** A mapped name and whether the tensor is transposed between the two layouts. */
export interface MappedName {
  /** The name on the other side. */
  name: string;
  /** Whether the tensor is stored transposed there. */
  transpose: boolean;
}

function compile(pattern: string): RegExp {
  const escaped = pattern.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace('\\{i\\}', '{i}');
  return new RegExp(`^${escaped.replace('{i}', '(\\d+)')}$`);
}

/** Translates names both ways with a table of HFNameRule. */
export class HFNameMap {
  /** The table it translates with. */
  readonly rules: readonly HFNameRule[];
  readonly #hf: RegExp[];
  readonly #webgrad: RegExp[];

  constructor(rules: readonly HFNameRule[]) {
    this.rules = rules;
    this.#hf = rules.map((r) => compile(r.hf));
    this.#webgrad = rules.map((r) => compile(r.webgrad));
  }

  /** webgrad name → transformers name, or null when no rule covers it. */
  toHF(name: string): MappedName | null { return this.#map(name, this.#webgrad, 'hf'); }

  /** transformers name → webgrad name, or null when no rule covers it. */
  fromHF(name: string): MappedName | null { return this.#map(name, this.#hf, 'webgrad'); }

  #map(name: string, from: RegExp[], to: 'hf' | 'webgrad'): MappedName | null {
    for (let k = 0; k < from.length; k++) {
      const m = from[k]!.exec(name);
      if (!m) continue;
      const rule = this.rules[k]!;
      return { name: m[1] === undefined ? rule[to] : rule[to].replace('{i}', m[1]), transpose: rule.transpose ?? false };
    }
    return null;
  }
}
