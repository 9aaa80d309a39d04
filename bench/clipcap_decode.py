"""ClipCap's released-weights decoding, real size: `generate` against ClipCap's own loops, token for token and in time.

A ClipCap MLP checkpoint at real size (CLIP ViT-B/32 embeddings in, K = 10, GPT-2 small), random weights, written in
ClipCap's key layout (`clip_project.*`, `gpt.*`) and converted with `convert_clipcap_checkpoint`, so it carries
ClipCap's decoding profile (stop at the first '.', kept; at most 67 tokens). Random weights never say '.', so its
embedding (tied to the head) is scaled up until '.' comes mid-sequence for some images. The reference loops are ClipCap's
`generate2` and `generate_beam` (width 5) as its README and code describe them: one image at a time, no cache, the
whole sequence run again for every token; greedy argmax; beams scored by summed log-probabilities, ranked by their
mean over each beam's own length, finished beams frozen. Measured in the same run:

- agreement: the tokens of `generate` (no options: greedy; `beams=5`) and of the reference loops, per image;
- time: the reference loops one image at a time against `generate` on the whole batch (KV cache).

Run: python bench/clipcap_decode.py [--images N] [--scale S] [--threads N]
"""
import argparse, platform, time
import torch
from clipcap.model import random_model
from clipcap.tiny import real_size_config
from clipcap.checkpoints import convert_clipcap_checkpoint
from clipcap.generate import generate


@torch.no_grad()
def generate2(model, emb, stop, n=67):
    "ClipCap's greedy loop on one image (no cache; argmax; stop at `stop`, kept)."
    x, toks = model.prefix(emb[None]), []
    for _ in range(n):
        t = model.gpt(inputs_embeds=x).logits[0, -1].argmax().item()
        toks.append(t)
        if t == stop: break
        x = torch.cat([x, model.gpt.transformer.wte(torch.tensor([[t]]))], 1)
    return toks


@torch.no_grad()
def generate_beam(model, emb, stop, W=5, n=67):
    "ClipCap's beam search on one image: its best beam's tokens."
    wte, x = model.gpt.transformer.wte, model.prefix(emb[None])
    scores, toks = model.gpt(inputs_embeds=x).logits[0, -1].softmax(-1).log().topk(W)
    toks, x, lengths, stopped = toks[:, None], x.expand(W, -1, -1), torch.ones(W), toks == stop
    for _ in range(1, n):
        if stopped.all(): break
        x = torch.cat([x, wte(toks[:, -1:])], 1)
        logp = model.gpt(inputs_embeds=x).logits[:, -1].softmax(-1).log()
        logp[stopped] = -torch.inf; logp[stopped, 0] = 0
        lengths[~stopped] += 1
        mean, idx = ((scores[:, None] + logp) / lengths[:, None]).view(-1).topk(W)
        src, t = idx // logp.shape[1], idx % logp.shape[1]
        lengths, x, stopped = lengths[src], x[src], stopped[src] | (t == stop)
        toks, scores = torch.cat([toks[src], t[:, None]], 1), mean * lengths
    best = (scores / lengths).argmax()
    return toks[best, :int(lengths[best])].tolist()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--images', type=int, default=4)
    ap.add_argument('--scale', type=float, default=3.5, help="factor on the '.' embedding (3.5: '.' mid-sequence for greedy and beams)")
    ap.add_argument('--threads', type=int, default=None)
    a = ap.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    src = random_model(real_size_config('clipcap-mlp'), seed=0, with_encoder=False)
    sd = {('clip_project.' + k[7:] if k.startswith('mapper.') else k): v for k, v in src.state_dict().items()}
    model = convert_clipcap_checkpoint(sd, src.config, tokenizer=src.tokenizer).set_precision('fp32')  # as ClipCap computes
    period = model.tokenizer('.').input_ids[0]
    with torch.no_grad(): model.gpt.transformer.wte.weight[period] *= a.scale
    torch.manual_seed(0)
    feats = torch.randn(a.images, model.config.image_dim)
    t = time.perf_counter(); ref_g = [generate2(model, f, period) for f in feats]; t_ref_g = time.perf_counter() - t
    t = time.perf_counter(); out_g = generate(model, feats).tokens; t_g = time.perf_counter() - t
    t = time.perf_counter(); ref_b = [generate_beam(model, f, period) for f in feats]; t_ref_b = time.perf_counter() - t
    t = time.perf_counter(); out_b = generate(model, feats, beams=5).tokens; t_b = time.perf_counter() - t
    print(f"CPU: {platform.processor() or platform.machine()}, torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"greedy lengths {[len(x) for x in ref_g]}, beam lengths {[len(x) for x in ref_b]} (67: no '.')")
    print(f"greedy: {sum(x == y for x, y in zip(ref_g, out_g))}/{a.images} images token for token; "
          f"ClipCap's loop {t_ref_g:.1f} s, generate {t_g:.1f} s: {t_ref_g / t_g:.1f}x")
    print(f"beam 5: {sum(x == y for x, y in zip(ref_b, out_b))}/{a.images} images token for token; "
          f"ClipCap's loop {t_ref_b:.1f} s, generate {t_b:.1f} s: {t_ref_b / t_b:.1f}x")


if __name__ == '__main__': main()
