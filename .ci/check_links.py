"""Check a built site: every local link and `#anchor` resolves, and the named pages show a picture.

Usage: python .ci/check_links.py [SITE] [--base URL] [--images PAGE ...]

SITE (default `_docs`) is the built site. A link is local when it is relative, or absolute under `--base` (default:
settings.ini's doc_host + doc_baseurl, where the site is published): it must name a file of the site and, with a
`#fragment`, an element of that page with that id. `--images` names pages that must each hold an `<img>` whose
source is a PNG or JPEG (a data URI, or a file of the site). Lists every broken link and exits 1 when there is any.
"""
import argparse, sys
from configparser import ConfigParser
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

class Page(HTMLParser):
    "The ids, links and pictures of one HTML page."
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids, self.links, self.imgs = set(), [], []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get('id'): self.ids.add(a['id'])
        if tag == 'a' and a.get('name'): self.ids.add(a['name'])
        for k in ('href', 'src'):
            if a.get(k) is not None and tag in ('a', 'link', 'img', 'script', 'iframe', 'source'): self.links.append(a[k])
        if tag == 'img': self.imgs.append(a.get('src') or '')

def parse(path:Path)->Page:
    p = Page()
    p.feed(path.read_text(encoding='utf-8', errors='replace'))
    return p

def default_base()->str:
    cfg = ConfigParser(delimiters=['=']); cfg.read(Path(__file__).resolve().parent.parent / 'settings.ini')
    d = cfg['DEFAULT']
    return d['doc_host'].rstrip('/') + '/' + d['doc_baseurl'].strip('/') + '/'

def target(site:Path, page:Path, href:str, base:str):
    "The file and fragment a link points at inside the site, or None for a link that leaves the site."
    if href.startswith(base): href = href[len(base):] or 'index.html'
    elif href.rstrip('/') == base.rstrip('/'): href = 'index.html'
    u = urlsplit(href)
    if u.scheme or u.netloc: return None  # elsewhere on the web, mailto:, data:, javascript:
    if not u.path: return page, unquote(u.fragment)
    f = (site / unquote(u.path).lstrip('/')) if u.path.startswith('/') else (page.parent / unquote(u.path))
    f = f.resolve()
    if f.is_dir(): f = f / 'index.html'
    return f, unquote(u.fragment)

def has_picture(site:Path, page:Path, imgs:list)->bool:
    for src in imgs:
        if src.startswith(('data:image/png;base64,', 'data:image/jpeg;base64,')) and len(src) > 100: return True
        t = target(site, page, src, '\0')
        if t and t[0].suffix.lower() in ('.png', '.jpg', '.jpeg') and t[0].is_file(): return True
    return False

def check(site:Path, base:str, need_images=())->list:
    "Every problem of the site, one line each."
    site = site.resolve()
    pages = {p.resolve(): parse(p) for p in sorted(site.rglob('*.html'))}
    bad = []
    for page, info in pages.items():
        rel = page.relative_to(site)
        for href in info.links:
            t = target(site, page, href.strip(), base)
            if t is None: continue
            f, frag = t
            if not f.is_relative_to(site): bad.append(f'{rel}: {href} (outside the site)')
            elif not f.exists(): bad.append(f'{rel}: {href} (no such file)')
            elif frag and f.suffix == '.html' and frag not in pages.get(f, Page()).ids: bad.append(f'{rel}: {href} (no such anchor)')
    for name in need_images:
        page = (site / name).resolve()
        if page not in pages: bad.append(f'{name}: no such page')
        elif not has_picture(site, page, pages[page].imgs): bad.append(f'{name}: no PNG or JPEG picture')
    return bad

def main(argv=None)->int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('site', nargs='?', default='_docs')
    ap.add_argument('--base', default=None, help='URL the site is published under (default: from settings.ini)')
    ap.add_argument('--images', nargs='*', default=[], help='pages that must show a PNG or JPEG picture')
    a = ap.parse_args(argv)
    base = a.base or default_base()
    site = Path(a.site)
    n = sum(len(parse(p).links) for p in site.rglob('*.html'))
    bad = check(site, base if base.endswith('/') else base + '/', a.images)
    for b in bad: print(b)
    print(f'{site}: {len(list(site.rglob("*.html")))} pages, {n} links and sources, {len(bad)} problems')
    return 1 if bad else 0

if __name__ == '__main__':
    sys.exit(main())
