"""Benchmark: caption a generated 60-second 30-fps video at N = 10 and N = 50 frames with the real clipgpt-S
architecture (random weights, exactly 20 new tokens a caption), with `clipcap.video.caption_video` against the
original's way, both measured in this run on this machine.

The original's way (VideoCaptionerWithClip `v2c.py`): for every frame, seek to it, write it as a JPEG and read it
back, load a full model (here: build the architecture from scratch, which stands in for the load), encode the one
frame, and decode greedily without a cache (the whole sequence re-run for every new token). The original started all
frames at once in a thread pool, each with its own model copy; on a CPU that adds no speed (the cores are already
busy) and needs N copies of the model in memory, so here the frames run one after another. Its cost is the same for
every frame, so it is timed on `--naive-frames` frames and scaled to N (stated in the output).

clipcap's way: one model load (built once, inside the timing), two streaming decoding passes (timestamps, then the
sampled frames), frames captioned in one batch with a KV cache, SRT + JSON written (no frame renders on either side).

    python bench/video.py [--naive-frames 3] [--size 320x240]
"""
import argparse, math, os, tempfile, time
from pathlib import Path
import cv2
import torch
from PIL import Image
from clipcap.model import random_model
from clipcap.captioner import Captioner
from clipcap.video import caption_video, synthetic_video

TOKENS = 20

def ours(video, n):
    t = time.perf_counter()
    cap = Captioner(checkpoint=random_model('clipgpt-S'), batch_size=64, max_new_tokens=TOKENS, min_new_tokens=TOKENS)
    res = caption_video(video, n, checkpoint=cap, save_frames=False, progress=False)
    return time.perf_counter() - t, res

@torch.no_grad()
def naive_frame(video, i, n, work):
    "The original's per-frame work for sample i of n."
    cap = cv2.VideoCapture(str(video))
    fps, count = cap.get(cv2.CAP_PROP_FPS), cap.get(cv2.CAP_PROP_FRAME_COUNT)
    cap.set(cv2.CAP_PROP_POS_FRAMES, int(fps * i * (count / fps) / n))
    ok, frame = cap.read(); cap.release()
    path = os.path.join(work, f'frame_{i:04d}.jpg'); cv2.imwrite(path, frame)
    img = Image.open(path).convert('RGB')
    model = random_model('clipgpt-S')  # a full model load for every frame
    emb = model.prefix(model.encoder(model.encoder.preprocess([img])))
    tokens = []
    for _ in range(TOKENS):  # no KV cache: the whole sequence again for every token
        logits = model.gpt(inputs_embeds=emb, use_cache=False).logits[:, -1]
        tok = logits.softmax(-1).argmax(-1)
        tokens.append(int(tok)); emb = torch.cat([emb, model.gpt.transformer.wte(tok)[:, None]], 1)
    return model.tokenizer.decode(tokens)

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--naive-frames', type=int, default=3, help='frames timed the original way (scaled to N)')
    ap.add_argument('--size', default='320x240', help='video frame size WxH')
    a = ap.parse_args()
    w, h = map(int, a.size.split('x'))
    with tempfile.TemporaryDirectory() as work:
        video = synthetic_video(Path(work) / 'bench.mp4', shots=[10.0] * 6, fps=30, size=(w, h))
        print(f"video: 60 s, 30 fps, {w}x{h}, mp4v; clipgpt-S (random weights), {TOKENS} new tokens a caption; "
              f"torch threads {torch.get_num_threads()}, device cpu")
        random_model('clipgpt-S')  # warm-up: first-call costs (imports, allocator) out of both timings
        got = {}
        for n in (10, 50):
            t, res = ours(video, n)
            got[n] = t
            print(f"clipcap  N={n:3d}: {t:7.1f} s  ({len(res.segments)} segments after merging, duration {res.info.duration:.3f} s)")
        t = time.perf_counter()
        for i in range(a.naive_frames): naive_frame(video, i, a.naive_frames, work)
        per = (time.perf_counter() - t) / a.naive_frames
        print(f"original way: {per:.2f} s a frame (timed on {a.naive_frames} frames, scaled to N)")
        for n in (10, 50):
            print(f"N={n:3d}: original way {per * n:7.1f} s, clipcap {got[n]:6.1f} s, speed-up {per * n / got[n]:5.1f}x")

if __name__ == '__main__': main()
