"""Load what `pnpm example hf-lora` wrote with transformers + PEFT and compare logits.

  /tmp/hfvenv/bin/python scripts/hf/check_peft_adapter.py runs/hf-lora

reads <out>/adapter (adapter_config.json + adapter_model.safetensors), the base model it names
(base_model_name_or_path: the HF directory the example loaded or made), and <out>/probe.safetensors
(token ids and webgrad's logits with the adapter), runs PeftModel on the ids and prints the largest
absolute difference of the logits, for the adapter and, as a control, for the base model alone.
Made with the versions in make_fixtures.py (transformers 5.18.0, peft 0.21.0, torch 2.13.0+cpu).
"""
import json
import os
import sys

import torch
import transformers
from peft import PeftModel
from safetensors.torch import load_file


def main(out):
    adapter = os.path.join(out, "adapter")
    with open(os.path.join(adapter, "adapter_config.json")) as f:
        base_dir = json.load(f)["base_model_name_or_path"]
    probe = load_file(os.path.join(out, "probe.safetensors"))
    ids = probe["ids"].long()
    base = transformers.AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32, attn_implementation="eager")
    base.eval()
    with torch.no_grad():
        base_logits = base(ids).logits
    model = PeftModel.from_pretrained(base, adapter)
    model.eval()
    with torch.no_grad():
        logits = model(ids).logits
    print(f"base: {base_dir} ({type(base).__name__}); probe ids {list(ids.shape)}")
    print(f"max |webgrad - PEFT| logits with the adapter: {(logits - probe['logits']).abs().max().item():.3e}")
    print(f"max |webgrad - base without the adapter|:     {(base_logits - probe['logits']).abs().max().item():.3e} (control: the adapter changes the logits)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "runs/hf-lora")
