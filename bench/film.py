"""Benchmark: a two-hour 1920x1080 H.264 film subtitled end to end at N = 100 with the real-size S architecture, as
`clipcap-video -V film.mp4 -N 100` does (one model load, SRT + JSON, the frames folder written), with each slot's
frame chosen by the default rule (`frame_choice='auto'`: a keyframe inside each 72 s slot) and exactly at each
slot's centre (`frame_choice='exact'`), in one run; then the film's first 60 s and first 600 s at N = 50.

The film, made once with ffmpeg and kept in bench/out/ (git-ignored): a 5-minute `testsrc2` segment, 24 fps, with
AAC audio, `-preset veryfast -g 240` (a keyframe every 10 s), concatenated 24 times with the concat demuxer and
`-c copy`. The 60 s and 600 s videos are its first minute and first ten minutes, cut with `-c copy` at keyframes.

The model: clipgpt-S at its real size (CLIP ViT-B/32 + mapper + GPT-2 small) with random weights, built offline, so
every caption runs to its 40 tokens (greedy); the tiny model for the video handling alone. Each case runs in a fresh
process, so that its peak RSS is its own. Where the time goes is printed per stage: open (probe and plan), frames
(decoding and conversion, in the producer thread, overlapping the model), encode (CLIP + mapper), decode (the
language model), outputs (frames folder written in its own thread, then subtitles), and the wall time end to end.

    python bench/film.py [--models S,tiny] [--skip-short] [--skip-film] [--threads N]

On a 2-core machine that other work shares, torch's OpenMP team of 2 threads stalls whenever another process (or
this pipeline's own decoding thread) holds a core: `--threads 1` can then be several times faster; run both.
"""
import argparse, json, os, platform, re, resource, subprocess, sys, tempfile, time
from pathlib import Path

OUT = Path(__file__).parent / 'out'
SEGMENT, COPIES = 300, 24
CPU_FLAGS = ('avx2', 'avx512f', 'avx512_vnni', 'avx_vnni', 'avx512_bf16', 'amx_bf16', 'amx_int8')


def ffmpeg(*args):
    subprocess.run(['ffmpeg', '-hide_banner', '-loglevel', 'error', '-y', *map(str, args)], check=True)


def make_film(out:Path=OUT)->Path:
    "The two-hour film (made once): a 5-minute testsrc2 + AAC segment, x264 veryfast, keyframe every 10 s, concatenated 24 times."
    film = out / 'film_1080p_2h.mp4'
    if film.exists(): return film
    out.mkdir(exist_ok=True)
    seg, lst = out / 'film_segment.mp4', out / 'film_list.txt'
    t = time.perf_counter()
    ffmpeg('-f', 'lavfi', '-i', f'testsrc2=size=1920x1080:rate=24:duration={SEGMENT}', '-f', 'lavfi', '-i',
           f'sine=frequency=440:duration={SEGMENT}', '-c:v', 'libx264', '-preset', 'veryfast', '-g', '240', '-pix_fmt', 'yuv420p',
           '-c:a', 'aac', '-shortest', seg)
    lst.write_text(''.join(f"file '{seg.name}'\n" for _ in range(COPIES)))
    ffmpeg('-f', 'concat', '-safe', '0', '-i', lst, '-c', 'copy', film.with_suffix('.tmp.mp4'))
    film.with_suffix('.tmp.mp4').replace(film)
    print(f"made {film.name} in {time.perf_counter() - t:.0f} s", flush=True)
    return film


def cut(film:Path, seconds:int)->Path:
    "The film's first `seconds`, cut at a keyframe with -c copy (made once)."
    p = film.with_name(f'film_1080p_{seconds}s.mp4')
    if not p.exists(): ffmpeg('-i', film, '-t', seconds, '-c', 'copy', p)
    return p


def cpu_line()->str:
    from clipcap.core import cpu_flags
    try: name = re.search(r'^model name\s*:\s*(.*)$', Path('/proc/cpuinfo').read_text(), re.M)[1]
    except (OSError, TypeError): name = platform.processor() or platform.machine()
    flags = [f for f in CPU_FLAGS if f in cpu_flags()]
    return f"CPU: {name}, {os.cpu_count()} cores; flags: {' '.join(flags) or 'none of ' + ' '.join(CPU_FLAGS)}"


# ---- one case in its own process ----
def timed_encoder(cap, times):
    "Time the image side of `cap.caption` (preprocessing + CLIP + mapper input); the rest of it is the language model."
    enc = cap.encoder
    def wrap(f):
        def g(*a, **k):
            t = time.perf_counter(); out = f(*a, **k); times['encode'] += time.perf_counter() - t; return out
        return g
    enc.preprocess, enc.forward = wrap(enc.preprocess), wrap(enc.forward)


def run_case(video, n, model, choice, threads=None):
    import torch
    if threads: torch.set_num_threads(threads)
    from clipcap.captioner import Captioner
    from clipcap.model import random_model, tiny_model
    from clipcap.video import caption_video
    t0 = time.perf_counter()
    m = tiny_model('clipgpt-S') if model == 'tiny' else random_model('clipgpt-S')
    cap = Captioner(checkpoint=m, batch_size=32)  # as clipcap-video builds it; random weights: every caption runs to 40 tokens
    load = time.perf_counter() - t0
    times = dict(encode=0.0); timed_encoder(cap, times)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # the model built: its own peak
    with tempfile.TemporaryDirectory() as out:
        t, c = time.perf_counter(), time.process_time()
        res = caption_video(video, n_frames=n, captioner=cap, out_dir=out, formats=('srt', 'json'), save_frames=True,
                            progress=False, frame_choice=choice)
        t, c = time.perf_counter() - t, time.process_time() - c
        n_files = len(list(res.frames_dir.iterdir()))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    stages = dict(res.timings, encode=times['encode'], decode=res.timings['caption'] - times['encode'])
    print(json.dumps(dict(seconds=t, cpu_seconds=c, load=load, rss_mb=rss, rss_before_mb=rss0, stages=stages, duration=res.info.duration,
                          captions=len(res.segments), files=n_files, torch_threads=torch.get_num_threads())))


def case(video, n, model, choice, threads=None):
    out = subprocess.run([sys.executable, __file__, '--case', str(video), str(n), model, choice] + (['--threads', str(threads)] if threads else []),
                         capture_output=True, text=True)
    if out.returncode: sys.exit(f"case {video} {n} {model} {choice} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def show(label, r):
    s = r['stages']
    print(f"{label:30} {r['seconds']:6.2f} s wall ({r['cpu_seconds']:5.1f} s CPU) | open {s['open']:5.2f}  frames {s['frames']:6.2f}  "
          f"encode {s['encode']:6.2f}  decode {s['decode']:6.2f}  outputs: frames folder {s['frames_folder']:5.2f}, subtitles {s['subtitles']:4.2f} | "
          f"peak RSS {r['rss_mb']:5.0f} MB ({r['rss_before_mb']:.0f} MB once the model was built, in {r['load']:.1f} s) | {r['files'] // 2} frames saved", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--models', default='S,tiny', help='S (real size, random weights) and/or tiny')
    ap.add_argument('--skip-short', action='store_true', help='skip the 60 s vs 600 s comparison')
    ap.add_argument('--skip-film', action='store_true', help='skip the two-hour film')
    ap.add_argument('--make-only', action='store_true', help='make the videos and stop')
    ap.add_argument('--threads', type=int, default=None, help="torch threads (default: torch's own choice, one a core)")
    ap.add_argument('--case', nargs=4, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.case: return run_case(a.case[0], int(a.case[1]), a.case[2], a.case[3], a.threads)
    film = make_film(); short, long = cut(film, 60), cut(film, 600)
    if a.make_only: return
    import av, torch
    print(cpu_line())
    print(f"torch {torch.__version__} ({a.threads or torch.get_num_threads()} threads), PyAV {av.__version__}; film: {film.name}, 1920x1080 H.264, "
          f"24 fps, keyframe every 10 s, {SEGMENT * COPIES} s")
    print("stages: seconds spent in each; frames (decoding and converting, its own thread) and the frames folder (its own thread)\n"
          "overlap encode and decode, so the stages add up to more than the wall time; wall time is caption_video's, the model built before")
    for model in a.models.split(',') if not a.skip_film else []:
        for choice in ('auto', 'exact'):
            show(f"{model}, 2 h film, N=100, {choice}", case(film, 100, model, choice, a.threads))
    if a.skip_short: return
    for model in a.models.split(','):
        r = {s: case(v, 50, model, 'auto', a.threads) for s, v in ((60, short), (600, long))}
        for s in r: show(f"{model}, {s} s, N=50, auto", r[s])
        print(f"{model}, N=50: the 600 s video takes {r[600]['seconds'] / r[60]['seconds']:.2f}x the wall time of the 60 s one", flush=True)


if __name__ == '__main__': main()
