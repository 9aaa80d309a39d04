"""Benchmark: caption 60 s and 600 s 1280x720 H.264 videos at N = 10 and N = 50 frames with `caption_video`, against
the two-pass decoding it replaced, both measured in this run on this machine.

The videos: 30 fps, x264's defaults (a keyframe every 250 frames, B-frames), textured shots of 10 s that scroll 3 px a
frame, generated once with PyAV and kept in bench/out/ (git-ignored; the 600 s one takes several minutes to write).

clipcap's way (`clipcap.video.caption_video`): the container's duration and index, the frames after the last
keyframe for the true end, then a seek to the keyframe before each slot's centre and decoding forward to the frame on
screen there (or plain decoding forward when the next keyframe is not before the frame wanted).

Today's way before this change (copied below, `two_pass`): OpenCV decodes the whole video once to time every frame,
then a second time up to the last frame wanted, retrieving the sampled frames.

Both caption with the same loaded `Captioner` (batch of 64, exactly 20 new tokens a caption) and write SRT + JSON,
no frame renders. Models: the tiny random model (the time is then all video handling) and the real-size S
architecture (ViT-B/32 + GPT-2, random weights). Each case runs in a fresh process, so that its peak RSS is its own.

    python bench/video.py [--long 600] [--models tiny,S] [--n 10,50]
"""
import argparse, json, os, platform, resource, subprocess, sys, tempfile, time
from array import array
from pathlib import Path
import av, cv2
import numpy as np
import torch

OUT = Path(__file__).parent / 'out'
TOKENS = 20

def bench_video(path, seconds, fps=30, size=(1280, 720), shot=10):
    "A 1280x720 H.264 video (x264 defaults: keyframe every 250 frames, B-frames) of textured shots that scroll 3 px a frame."
    path = Path(path)
    if path.exists(): return path
    w, h = size; rng = np.random.default_rng(0); n = shot * fps
    tmp = path.with_name(f'.{path.name}.tmp.mp4')
    with av.open(str(tmp), 'w') as c:
        s = c.add_stream('libx264', rate=fps); s.width, s.height, s.pix_fmt = w, h, 'yuv420p'
        for k in range(-(-seconds // shot)):
            base = np.kron(rng.integers(0, 256, (h // 8, (w + 3 * n) // 8 + 1, 3), dtype=np.uint8), np.ones((8, 8, 1), np.uint8))
            base = np.clip(base + rng.integers(-20, 20, base.shape), 0, 255).astype(np.uint8)
            for i in range(min(n, (seconds - k * shot) * fps)):
                c.mux(s.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(base[:, 3 * i:3 * i + w]), format='rgb24')))
        c.mux(s.encode())
    tmp.replace(path)
    return path

# ---- today's way, as clipcap.video did it before seeking (a faithful copy of its two decoding passes) ----
MAX_BAD_FRAMES = 32

def decode_frames(cap, keep=None, max_bad=MAX_BAD_FRAMES, stop=None):
    i = bad = run = 0
    while stop is None or i <= stop:
        if not cap.grab():
            run += 1
            if run > max_bad: return
            continue
        bad, run = bad + run, 0
        ms = cap.get(cv2.CAP_PROP_POS_MSEC)
        img = None
        if keep is not None and keep(i, ms):
            ok, img = cap.retrieve()
            if not ok: img = None
        yield i, ms, img, bad
        i += 1

def probe_times(path):
    "First pass: every frame's time, and the duration."
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    fps = cap.get(cv2.CAP_PROP_FPS)
    ms = array('d')
    for i, t, img, bad in decode_frames(cap): ms.append(t)
    cap.release()
    times = np.frombuffer(ms, dtype=np.float64) / 1000
    if len(times) > 1 and not np.all(np.diff(times) > 0): times = np.arange(len(times)) / fps
    step = float(np.median(np.diff(times))) if len(times) > 1 else 1 / fps
    return times, float(times[-1] + step)

def uniform_plan(times, duration, n):
    "N equal slots, each captioned from the frame on screen at its centre, slots sharing a frame merged."
    edges, plan = np.linspace(0, duration, n + 1), []
    for a, b in zip(edges[:-1], edges[1:]):
        f = int(np.clip(np.searchsorted(times, (a + b) / 2, side='right') - 1, 0, len(times) - 1))
        if plan and plan[-1][0] == f: plan[-1] = (f, plan[-1][1], b)
        else: plan.append((f, a, b))
    return plan

def read_frames(path, frames):
    "Second pass: decode up to the last frame wanted, retrieving (and converting) the wanted ones."
    wanted = set(int(f) for f in frames)
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    try:
        for i, _, bgr, _ in decode_frames(cap, keep=lambda i, t: i in wanted, stop=max(wanted)):
            if bgr is not None: yield i, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    finally: cap.release()

def two_pass(video, n, cap, out_dir):
    from clipcap.subtitles import Segment, merge_segments, to_srt, to_json_items
    times, duration = probe_times(video)
    plan = uniform_plan(times, duration, n)
    spans = {f: (a, b) for f, a, b in plan}
    segments, batch = [], []
    def flush():
        for (f, rgb), text in zip(batch, cap.caption_batch([rgb for _, rgb in batch]).captions):
            segments.append(Segment(*spans[f], text, [f], [float(times[f])]))
        batch.clear()
    for f, rgb in read_frames(video, list(spans)):
        batch.append((f, rgb))
        if len(batch) >= cap.batch_size: flush()
    if batch: flush()
    segments = merge_segments(segments)
    stem = Path(video).stem
    (out_dir / f'{stem}_caption.srt').write_text(to_srt(segments), encoding='utf-8')
    (out_dir / f'{stem}_caption.json').write_text(json.dumps(to_json_items(segments), indent=4), encoding='utf-8')
    return segments, duration

def seeking(video, n, cap, out_dir):
    from clipcap.video import caption_video
    res = caption_video(video, n_frames=n, captioner=cap, out_dir=out_dir, save_frames=False, progress=False)
    return res.segments, res.info.duration

# ---- one case in its own process ----
def run_case(way, video, n, model):
    from clipcap.captioner import Captioner
    from clipcap.model import random_model, tiny_model
    torch.manual_seed(0)
    m = tiny_model('clipgpt-S') if model == 'tiny' else random_model('clipgpt-S')
    cap = Captioner(checkpoint=m, batch_size=64, max_tokens=TOKENS, min_tokens=TOKENS)
    cap.caption([np.zeros((224, 224, 3), np.uint8)])  # warm-up: first-call costs out of the timing
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with tempfile.TemporaryDirectory() as out:
        t, c = time.perf_counter(), time.process_time()
        segments, duration = (two_pass if way == 'two-pass' else seeking)(video, n, cap, Path(out))
        t, c = time.perf_counter() - t, time.process_time() - c
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(dict(seconds=t, cpu_seconds=c, rss_mb=rss / 1024, rss_before_mb=rss0 / 1024, duration=duration,
                          spans=[(round(s.start, 6), round(s.end, 6)) for s in segments], frames=[s.frames for s in segments])))

def case(way, video, n, model):
    out = subprocess.run([sys.executable, __file__, '--case', way, str(video), str(n), model], capture_output=True, text=True,
                         env={**os.environ, 'OMP_NUM_THREADS': os.environ.get('OMP_NUM_THREADS', str(os.cpu_count()))})
    if out.returncode: sys.exit(f"case {way} {video} {n} {model} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])

def compare(old, new, n, fps=30):
    "'same' when both ways give the same duration, segments and frames; else what differs, with ties told apart."
    if abs(old['duration'] - new['duration']) > 1e-6: return f"durations differ: {old['duration']} vs {new['duration']}"
    a, b = [f for s in old['frames'] for f in s], [f for s in new['frames'] for f in s]
    if len(a) != len(b) or len(a) != n: return f"{len(a)} vs {len(b)} frames for {n} slots"
    centres = [(k + 0.5) * new['duration'] / n * fps for k in range(n)]  # in frames: an integer is a frame's start
    diff = [(x, y, c) for x, y, c in zip(a, b, centres) if x != y]
    ties = [d for d in diff if abs(d[2] - round(d[2])) < 1e-6 and d[1] == round(d[2]) and d[0] == d[1] - 1]
    if not diff: return 'same' if old['spans'] == new['spans'] else 'same frames, merged differently'
    if len(ties) < len(diff): return f"frames differ: {diff[:5]}"
    return (f"same but {len(diff)} of {n}: slot centre exactly on a frame's start, where two-pass took the frame before "
            f"(its millisecond clock rounded) and seeking the frame starting there")

def cpu_name():
    try: return next(l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name'))
    except (OSError, StopIteration): return platform.processor() or platform.machine()

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--long', type=int, default=600, help='length of the long video, in seconds')
    ap.add_argument('--models', default='tiny,S', help='tiny and/or S (real size, random weights)')
    ap.add_argument('--n', default='10,50', help='frames to caption')
    ap.add_argument('--case', nargs=4, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.case: return run_case(a.case[0], a.case[1], int(a.case[2]), a.case[3])
    OUT.mkdir(exist_ok=True)
    videos = {s: bench_video(OUT / f'h264_1280x720_{s}s.mp4', s) for s in (60, a.long)}
    print(f"CPU: {cpu_name()}, {os.cpu_count()} cores; torch threads {torch.get_num_threads()}; PyAV {av.__version__}, OpenCV {cv2.__version__}")
    print(f"videos: 1280x720 H.264, 30 fps, x264 defaults, {' and '.join(f'{s} s' for s in videos)}; {TOKENS} new tokens a caption")
    print("wall: elapsed seconds; cpu: CPU seconds of the process, all its threads (steadier when other work shares the machine)")
    print(f"{'model':5} {'video':>6} {'N':>3} | {'wall: two-pass':>14} {'seeking':>8} {'speed-up':>8} | {'cpu: two-pass':>13} {'seeking':>8} "
          f"{'speed-up':>8} | {'peak RSS MB: two-pass':>21} {'seeking':>8} | answers")
    got = {}
    for model in a.models.split(','):
        for s, video in videos.items():
            for n in map(int, a.n.split(',')):
                old, new = case('two-pass', video, n, model), case('seeking', video, n, model)
                got[model, s, n] = new['seconds'], new['cpu_seconds']
                same = compare(old, new, n)
                print(f"{model:5} {s:5d}s {n:3d} | {old['seconds']:13.2f}s {new['seconds']:7.2f}s {old['seconds'] / new['seconds']:7.1f}x | "
                      f"{old['cpu_seconds']:12.2f}s {new['cpu_seconds']:7.2f}s {old['cpu_seconds'] / new['cpu_seconds']:7.1f}x | "
                      f"{old['rss_mb']:21.0f} {new['rss_mb']:8.0f} | {same}", flush=True)
    for model in a.models.split(','):
        for n in map(int, a.n.split(',')):
            (w1, c1), (w2, c2) = got[model, 60, n], got[model, a.long, n]
            print(f"{model}, N={n}: the {a.long} s video takes {w2 / w1:.2f}x the wall time of the 60 s one ({c2 / c1:.2f}x the CPU time)")

if __name__ == '__main__': main()
