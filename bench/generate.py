"""Captions per second of `clipcap.generate.generate`, against the original's way of decoding, measured in one run.

The real-size clipgpt-S architecture (GPT-2 small decoder + the original's mapper), random weights, built offline.
Every caption is exactly 20 new tokens (min = max = 20), so runs compare. Measured in the same run, so the ratios hold
on a shared, noisy machine even when the absolute figures move:

- naive: one image at a time, no KV cache, the whole sequence run again for every token, logits at every position
  (the original's loop);
- generate() at batch 1 and batch 32 (KV cache, the prefix run once, one token per row per step);
- generate() at batch 32 for a model in the original's layout (clipcap's own cached loop);
- Hugging Face's `generate` at batch 32, greedy, with every step's scores kept (`output_scores`, which a caption's
  score needs there), with the same fused GELU: what clipcap's loop replaces; its time and peak memory beside the loop's;
- the roofline: a large fp32 matmul's GFLOP/s; a caption's FLOPs are counted from the parameter counts
  (2 FLOPs per weight per token that passes it, plus attention scores).

Run: python bench/generate.py [--threads N] [--profile]
"""
import argparse, threading, time
from dataclasses import replace
import torch
from clipcap.model import random_model
from clipcap.generate import fast_decoding, generate

NEW = 20  # new tokens per caption


def timed(fn, repeat=1):
    "Best wall time of `repeat` calls (s)."
    best = float('inf')
    for _ in range(repeat):
        t = time.perf_counter(); fn(); best = min(best, time.perf_counter() - t)
    return best


@torch.no_grad()
def naive_caption(model, feats):
    "The original's loop for one image: no cache, the whole sequence again at every step, greedy, NEW tokens."
    prefix = model.prefix(feats[None])
    ids = torch.empty((1, 0), dtype=torch.long)
    for _ in range(NEW):
        emb = torch.cat([prefix, model.gpt.transformer.wte(ids)], 1)
        logits = model.gpt(inputs_embeds=emb).logits  # every position, as the original
        ids = torch.cat([ids, logits[:, -1].softmax(-1).argmax(-1, keepdim=True)], 1)
    return ids


@torch.inference_mode()
def hf_generate(model, feats):
    "Hugging Face's greedy `generate` from the prefixes, NEW tokens, every step's scores kept (as a caption's score needs)."
    prefix, eos = model.prefix(feats), model.eos_token_id
    with fast_decoding(model):
        return model.gpt.generate(inputs_embeds=prefix, attention_mask=torch.ones(prefix.shape[:2], dtype=torch.long),
                                  max_new_tokens=NEW, min_new_tokens=NEW, do_sample=False, eos_token_id=eos, pad_token_id=eos,
                                  return_dict_in_generate=True, output_scores=True)


def rss_mb():
    with open('/proc/self/statm') as f: return int(f.read().split()[1]) * 4096 / 2 ** 20


def peak_growth(fn):
    "Peak resident memory above the start while `fn` runs (MB, sampled every 2 ms)."
    start, peak, running = rss_mb(), [0.0], [True]
    def sample():
        while running[0]: peak[0] = max(peak[0], rss_mb() - start); time.sleep(0.002)
    t = threading.Thread(target=sample); t.start()
    try: fn()
    finally: running[0] = False; t.join()
    return peak[0]


def caption_flops(model):
    "FLOPs one caption of NEW tokens needs: mapper once, K + NEW - 1 tokens through the blocks, NEW logit rows."
    g = model.gpt
    E, L, V, K = g.config.n_embd, g.config.n_layer, g.config.vocab_size, model.config.prefix_length
    blocks = sum(p.numel() for p in g.transformer.h.parameters())
    mapper = sum(p.numel() for p in model.mapper.parameters())
    tokens = K + NEW - 1
    attention = sum(4 * n * E * L for n in range(1, tokens + 1))  # q·k and attention·v, each 2·n·E a layer
    return 2 * mapper + 2 * blocks * tokens + 2 * E * V * NEW + attention


def matmul_gflops(n=2048, repeat=5):
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    return 2 * n ** 3 / timed(lambda: a @ b, repeat) / 1e9


@torch.inference_mode()
def step_gemm_gflops(model, batch=32, repeat=3):
    "GFLOP/s of one decoding step's matmuls alone (every block's four, and the LM head) at this batch size."
    g = model.gpt
    x, h = torch.randn(batch, g.config.n_embd), torch.randn(batch, 4 * g.config.n_embd)
    layers = [((x, b.attn.c_attn), (x, b.attn.c_proj), (x, b.mlp.c_fc), (h, b.mlp.c_proj)) for b in g.transformer.h]
    def step():
        for layer in layers:
            for inp, conv in layer: torch.addmm(conv.bias, inp, conv.weight)
        torch.nn.functional.linear(x, g.lm_head.weight)
    flops = 2 * batch * (sum(c.weight.numel() for layer in layers for _, c in layer) + g.lm_head.weight.numel())
    step()
    return flops / timed(step, repeat) / 1e9


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--profile', action='store_true', help='profile one batch of 32 and print the top operators')
    p.add_argument('--threads', type=int, default=None, help="torch threads (default: torch's own choice)")
    args = p.parse_args()
    if args.threads: torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = random_model('clipgpt-S', with_encoder=False)
    feats = torch.randn(32, model.config.image_dim)
    opts = dict(max_tokens=NEW, min_tokens=NEW)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; clipgpt-S (GPT-2 small), random weights, "
          f"{NEW} new tokens a caption, fp32, CPU")

    generate(model, feats[:2], max_tokens=2)  # warm up
    naive_caption(model, feats[0])
    n_naive = 2
    t_naive = timed(lambda: [naive_caption(model, f) for f in feats[:n_naive]])
    n_one = 2
    t_one = timed(lambda: [generate(model, f[None], **opts) for f in feats[:n_one]])
    t_32 = timed(lambda: generate(model, feats, **opts), repeat=2)
    orig = random_model('clipgpt-S', with_encoder=False)
    orig.config = replace(orig.config, clipgpt_layout=True)
    t_32o = timed(lambda: generate(orig, feats, **opts))
    hf_generate(model, feats[:2])
    t_hf = timed(lambda: hf_generate(model, feats), repeat=2)
    mem = dict(b32=peak_growth(lambda: generate(model, feats, **opts)), hf=peak_growth(lambda: hf_generate(model, feats)))
    gflops = matmul_gflops()
    step_gflops = step_gemm_gflops(model)

    rate = dict(naive=n_naive / t_naive, b1=n_one / t_one, b32=32 / t_32, b32o=32 / t_32o, hf=32 / t_hf)
    flops = caption_flops(model)
    print(f"naive (original's loop, batch 1, no cache): {rate['naive']:7.2f} captions/s")
    print(f"generate, batch 1:                          {rate['b1']:7.2f} captions/s   {rate['b1'] / rate['naive']:5.1f}x naive")
    print(f"generate, batch 32:                         {rate['b32']:7.2f} captions/s   {rate['b32'] / rate['naive']:5.1f}x naive")
    print(f"generate, batch 32, original layout:        {rate['b32o']:7.2f} captions/s   {rate['b32o'] / rate['naive']:5.1f}x naive")
    print(f"Hugging Face generate, batch 32, scores kept: {rate['hf']:5.2f} captions/s   {rate['hf'] / rate['naive']:5.1f}x naive; "
          f"generate is {rate['b32'] / rate['hf']:.2f}x as fast")
    print(f"peak memory above the start, batch 32: generate +{mem['b32']:.0f} MB, Hugging Face generate +{mem['hf']:.0f} MB")
    print(f"roofline: fp32 2048^3 matmul {gflops:.1f} GFLOP/s; a caption needs {flops / 1e9:.2f} GFLOP")
    for name, key in (('batch 1', 'b1'), ('batch 32', 'b32'), ('batch 32, original layout', 'b32o')):
        achieved = rate[key] * flops / 1e9
        print(f"  {name:26s} {achieved:6.1f} GFLOP/s = {achieved / gflops:5.1%} of the roofline")
    print(f"one decoding step's matmuls alone at batch 32: {step_gflops:.1f} GFLOP/s = {step_gflops / gflops:.1%} of the "
          f"roofline; generate at batch 32 reaches {rate['b32'] * flops / 1e9 / step_gflops:.1%} of that")

    if args.profile:
        from torch.profiler import profile, ProfilerActivity
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            generate(model, feats, **opts)
        print(prof.key_averages(group_by_input_shape=True).table(sort_by='self_cpu_time_total', row_limit=12))


if __name__ == '__main__':
    main()
