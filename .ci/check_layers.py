#!/usr/bin/env python3
"""Each chapter imports only earlier chapters, and no private name of another module.

A module's chapter is the notebook it is exported from (its "File to edit" header); every import of another clipcap
module, at the top or inside a function, must name a module of a lower-numbered chapter, and no imported name may
start with an underscore. No exceptions: the commands, which reach every chapter (Ray's too), are the last chapter.
Prints each violation and exits 1 if there is any."""
import ast, re, sys
from pathlib import Path

pkg = Path(__file__).resolve().parent.parent / 'clipcap'
chapter = {}
for f in pkg.glob('*.py'):
    m = re.search(r'File to edit: \.\./nbs/(\d+)_\w+\.ipynb', f.read_text())
    if m: chapter[f.stem] = int(m[1])

def imports(tree, own):
    "(line, module, names, at the top) for every import of a clipcap module in `tree`."
    top = {id(n) for n in tree.body}
    for n in ast.walk(tree):
        if isinstance(n, ast.ImportFrom):
            mod = n.module or ''
            if n.level == 1: yield n.lineno, mod.split('.')[0], [a.name for a in n.names], id(n) in top
            elif mod.startswith('clipcap.'): yield n.lineno, mod.split('.')[1], [a.name for a in n.names], id(n) in top
            elif mod == 'clipcap': yield from ((n.lineno, a.name, [], id(n) in top) for a in n.names)
        elif isinstance(n, ast.Import):
            for a in n.names:
                if a.name.startswith('clipcap.'): yield n.lineno, a.name.split('.')[1], [], id(n) in top

bad = []
for own, num in sorted(chapter.items(), key=lambda kv: kv[1]):
    tree = ast.parse((pkg / f'{own}.py').read_text())
    for line, mod, names, _ in imports(tree, own):
        if mod not in chapter: continue
        if chapter[mod] >= num and mod != own:
            bad.append(f"clipcap/{own}.py:{line}: chapter {num:02d} imports {mod} (chapter {chapter[mod]:02d})")
        priv = [x for x in names if x.startswith('_')]
        if priv: bad.append(f"clipcap/{own}.py:{line}: imports private {priv} from {mod}")
print('\n'.join(bad) or f"layers ok: {len(chapter)} modules, each importing only earlier chapters' public names")
sys.exit(1 if bad else 0)
