"""Fixtures for webgrad's HuggingFace parity tests (packages/nn/test/hf_*.test.ts).

Tiny randomly initialised models of the GPT-2, Llama (grouped-query attention) and Qwen2 (q/k/v
biases, tied embeddings) families, made with `transformers` — nothing is downloaded — and written
in HF's own layout, each in packages/nn/test/fixtures/hf/<name>/:

  config.json, model.safetensors   save_pretrained's output
  expected.safetensors             `logits` (B, T, V) float32 for the ids in expected.json, and
                                   `lora_logits` with the adapter in peft_adapter/
  expected.json                    input ids, greedy generation, PEFT's LoRA adapter for the model
                                   (state-dict keys and shapes, adapter_config.json)
  peft_adapter/                    a LoRA adapter (r 4, alpha 8; random B) as PEFT saves it

and two tokenizers built offline with `tokenizers`, in fixtures/hf/tokenizers/:

  byte_level/tokenizer.json        GPT-2-style byte-level BPE trained on the corpus below
  llama_style/tokenizer.json       SentencePiece-style BPE: "▁" for spaces (Prepend + Replace
                                   normalizer), byte fallback to <0xNN> tokens, Llama 2's decoder
  metaspace/tokenizer.json         the same pieces behind a Metaspace pre-tokenizer and decoder
  expected.json                    each tokenizer's ids and decode of the multilingual texts

Versions these fixtures were made with (the script checks them):
  torch 2.13.0+cpu, transformers 5.18.0, tokenizers 0.23.2, safetensors 0.8.0, peft 0.21.0
  (Python 3.11; `python3 -m venv /tmp/hfvenv && /tmp/hfvenv/bin/pip install torch==2.13.0+cpu
  transformers==5.18.0 tokenizers==0.23.2 safetensors==0.8.0 peft==0.21.0`).

Run: /tmp/hfvenv/bin/python scripts/hf/make_fixtures.py
"""
import json
import os
import shutil


import peft
import safetensors
import tokenizers
import torch
import transformers
from safetensors.torch import save_file
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

VERSIONS = {"torch": "2.13.0+cpu", "transformers": "5.18.0", "tokenizers": "0.23.2", "safetensors": "0.8.0", "peft": "0.21.0"}
FOUND = {"torch": torch.__version__, "transformers": transformers.__version__, "tokenizers": tokenizers.__version__,
         "safetensors": safetensors.__version__, "peft": peft.__version__}
if FOUND != VERSIONS:
    print("warning: versions differ from the ones the committed fixtures were made with:", FOUND)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "packages", "nn", "test", "fixtures", "hf")
VOCAB = 300
BATCH, SEQ, NEW_TOKENS = 2, 8, 12


def fixed_ids(seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, VOCAB, (BATCH, SEQ), generator=g)


def greedy_margin(model, ids, steps):
    """The smallest gap between the best and second-best logit along the greedy path."""
    seq = ids
    margin = float("inf")
    with torch.no_grad():
        for _ in range(steps):
            logits = model(seq).logits[:, -1, :]
            top = logits.topk(2, dim=-1).values
            margin = min(margin, float((top[:, 0] - top[:, 1]).min()))
            seq = torch.cat([seq, logits.argmax(-1, keepdim=True)], dim=1)
    return margin, seq


def peft_adapter(model, target_modules, ids, out):
    """What PEFT writes for a LoRA adapter of `model`: adapter_config.json and the tensor names/shapes,
    and an adapter with random (non-zero) B matrices saved in out/peft_adapter with the logits
    PEFT gives for `ids` (PEFT starts B at zero, which would leave the logits unchanged)."""
    cfg = peft.LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=target_modules, task_type="CAUSAL_LM")
    wrapped = peft.get_peft_model(model, cfg)
    g = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for name, p in wrapped.named_parameters():
            if "lora_B" in name:
                p.copy_(torch.randn(p.shape, generator=g) * 0.2)
        logits = wrapped(ids).logits.float().contiguous()
    adapter_dir = os.path.join(out, "peft_adapter")
    wrapped.save_pretrained(adapter_dir)
    with open(os.path.join(adapter_dir, "adapter_config.json")) as f:
        config = json.load(f)
    config["target_modules"] = sorted(config["target_modules"])  # PEFT writes a set, in any order
    from safetensors import safe_open
    with safe_open(os.path.join(adapter_dir, "adapter_model.safetensors"), "pt") as f:
        tensors = {k: list(f.get_tensor(k).shape) for k in f.keys()}
    for extra in os.listdir(adapter_dir):
        if extra not in ("adapter_config.json", "adapter_model.safetensors"):
            os.remove(os.path.join(adapter_dir, extra))
    wrapped.unload()
    return {"adapter_config": config, "tensors": tensors}, logits


def write_model(name, model, seed, target_modules):
    model.eval()
    out = os.path.join(ROOT, name)
    shutil.rmtree(out, ignore_errors=True)
    model.save_pretrained(out, safe_serialization=True)
    for extra in os.listdir(out):
        if extra not in ("config.json", "model.safetensors"):
            os.remove(os.path.join(out, extra))
    model.eval()
    ids = fixed_ids(seed)
    with torch.no_grad():
        logits = model(ids).logits.float().contiguous()
    margin, path = greedy_margin(model, ids, NEW_TOKENS)
    generated = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=NEW_TOKENS, do_sample=False,
                               eos_token_id=None, pad_token_id=0)
    assert torch.equal(path, generated), "generate() and the argmax loop disagree"
    adapter, lora_logits = peft_adapter(model, target_modules, ids, out)
    save_file({"logits": logits, "lora_logits": lora_logits}, os.path.join(out, "expected.safetensors"))
    expected = {
        "ids": ids.tolist(),
        "generated": generated.tolist(),
        "greedy_margin": margin,
        "peft": adapter,
    }
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
    sizes = {n: os.path.getsize(os.path.join(out, n)) for n in sorted(os.listdir(out))}
    print(name, "greedy margin", round(margin, 5), sizes)


def make_models():
    # GPT-2: Conv1D weights [in, out], gelu_new, tied lm_head, a non-default LayerNorm epsilon.
    torch.manual_seed(0)
    gpt2 = transformers.GPT2LMHeadModel(transformers.GPT2Config(
        vocab_size=VOCAB, n_positions=32, n_embd=32, n_layer=2, n_head=4, layer_norm_epsilon=1e-6,
        activation_function="gelu_new", initializer_range=0.2, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
        bos_token_id=0, eos_token_id=0))
    write_model("gpt2", gpt2, 1, ["c_attn"])

    # Llama: grouped-query attention (4 query heads, 2 key/value heads), untied head, rope_theta.
    torch.manual_seed(0)
    llama = transformers.LlamaForCausalLM(transformers.LlamaConfig(
        vocab_size=VOCAB, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=64, rms_norm_eps=1e-6, rope_theta=500.0,
        tie_word_embeddings=False, initializer_range=0.2, bos_token_id=1, eos_token_id=2, attn_implementation="eager"))
    write_model("llama", llama, 2, ["q_proj", "v_proj"])

    # Qwen2: q/k/v biases (o_proj without), tied embeddings.
    torch.manual_seed(0)
    qwen = transformers.Qwen2ForCausalLM(transformers.Qwen2Config(
        vocab_size=VOCAB, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=64, rms_norm_eps=1e-6, rope_theta=10000.0,
        tie_word_embeddings=True, initializer_range=0.2, use_sliding_window=False, attn_implementation="eager"))
    with torch.no_grad():  # HF initialises biases to zero; give them values so they are tested
        for layer in qwen.model.layers:
            for proj in (layer.self_attn.q_proj, layer.self_attn.k_proj, layer.self_attn.v_proj):
                proj.bias.normal_(0, 0.2)
    write_model("qwen2", qwen, 3, ["q_proj", "v_proj"])


# Text the tokenizers are trained on and the texts whose ids the tests compare.
CORPUS = [
    "The quick brown fox jumps over the lazy dog. Tokenizers split text into pieces.",
    "Die Straße führt über die Brücke; Größe, Äpfel, Öl und Übermut.",
    "def add(a, b):\n\treturn a + b\n\nfor i in range(10):\n\tprint(add(i, i))\n",
    "東京は日本の首都です。中文分词测试，汉字。",
    "こんにちは、世界！カタカナとひらがな。",
    "مرحبا بالعالم، هذا اختبار.",
    "Emoji: 😀 🚀 👍🏽 and numbers 12345 67890.",
] * 3
TEXTS = [
    "Hello world! The quick brown fox.",
    "Größe über Brücken: Äpfel, Öl — straße.",
    "中文测试：汉字和标点。東京は日本の首都です。",
    "こんにちは世界、カタカナ。",
    "مرحبا بالعالم",
    "emoji 😀🚀👍🏽 mixed🙂text",
    "def f(x):\n\tif x > 1:\n\t\treturn x * 2\n    return None\r\n",
    "  leading and trailing spaces  ",
    "ZZZ unseen ∑∫ symbols ☃ and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
]


def byte_level_tokenizer():
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=450, min_frequency=2, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(CORPUS, trainer)
    return tok


def sentencepiece_style_pieces(texts, alphabet_size=80, merges_wanted=200):
    """BPE pieces in the SentencePiece manner: words marked with a leading "▁", the alphabet_size
    most frequent characters, then merges of the most frequent adjacent pair (ties: the smallest
    pair), never across words. Written out here instead of tokenizers' BpeTrainer, whose tie order
    changes from run to run, so the fixtures are reproducible."""
    from collections import Counter
    words = Counter("▁" + w for t in texts for w in t.split(" ") if w)
    chars = Counter()
    for w, n in words.items():
        for c in w:
            chars[c] += n
    alphabet = sorted(c for c, _ in sorted(chars.items(), key=lambda kv: (-kv[1], kv[0]))[:alphabet_size])
    known = set(alphabet)
    seqs = {w: list(w) for w in words}
    merges = []
    while len(merges) < merges_wanted:
        pairs = Counter()
        for w, n in words.items():
            s = seqs[w]
            for x, y in zip(s, s[1:]):
                if x in known and y in known:
                    pairs[(x, y)] += n
        if not pairs:
            break
        (x, y), count = min(pairs.items(), key=lambda kv: (-kv[1], kv[0]))
        if count < 2:
            break
        merges.append((x, y))
        known.add(x + y)
        for w, s in seqs.items():
            out, i = [], 0
            while i < len(s):
                if i + 1 < len(s) and s[i] == x and s[i + 1] == y:
                    out.append(x + y)
                    i += 2
                else:
                    out.append(s[i])
                    i += 1
            seqs[w] = out
    return alphabet, merges


def llama_style_tokenizer(layout):
    """SentencePiece-style BPE with byte fallback in Llama 2's token layout: <unk>, <s>, </s>, then
    <0x00>..<0xFF>, then the pieces (characters outside the 80 most frequent fall back to bytes).
    Layout "legacy" marks spaces with a Prepend + Replace normalizer (Llama 2's tokenizer.json),
    "metaspace" with a Metaspace pre-tokenizer (prepend_scheme "first", split false)."""
    alphabet, merges = sentencepiece_style_pieces(CORPUS)
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for b in range(256):
        vocab[f"<0x{b:02X}>"] = len(vocab)
    for piece in alphabet + [x + y for x, y in merges]:
        if piece not in vocab:
            vocab[piece] = len(vocab)
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    if layout == "legacy":
        tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
        tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)])
    else:
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=False)
        tok.decoder = decoders.Sequence([decoders.ByteFallback(), decoders.Metaspace(replacement="▁", prepend_scheme="first", split=False)])
    tok.add_special_tokens(["<unk>", "<s>", "</s>"])
    return tok


def make_tokenizers():
    out = os.path.join(ROOT, "tokenizers")
    shutil.rmtree(out, ignore_errors=True)
    expected = {"texts": TEXTS}
    for name, tok in (("byte_level", byte_level_tokenizer()), ("llama_style", llama_style_tokenizer("legacy")),
                      ("metaspace", llama_style_tokenizer("metaspace"))):
        os.makedirs(os.path.join(out, name))
        tok.save(os.path.join(out, name, "tokenizer.json"))
        encodings = [tok.encode(t, add_special_tokens=False) for t in TEXTS]
        expected[name] = {
            "ids": [e.ids for e in encodings],
            "tokens": [e.tokens for e in encodings],
            "decoded": [tok.decode(e.ids, skip_special_tokens=False) for e in encodings],
        }
        print(name, "vocab", tok.get_vocab_size(), "tokens per text", [len(e.ids) for e in encodings])
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    make_models()
    make_tokenizers()
