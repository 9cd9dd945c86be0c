#!/usr/bin/env python3
"""Reference renderer for tests/t_chat_template.sh: Python's jinja2 configured exactly as
transformers' apply_chat_template configures it (ImmutableSandboxedEnvironment, trim_blocks,
lstrip_blocks, loopcontrols, its own tojson, raise_exception, strftime_now, and the
{% generation %} tag of its AssistantTracker rendered as its body).

usage: ref_jinja2.py OUTDIR BOS EOS TEMPLATE... -- CONV...
Writes OUTDIR/<template>__<conv>.txt (the rendering) or .err (jinja2's error message).
Variables as transformers passes them: messages, tools=None, documents=None,
add_generation_prompt (default True here, as in chord_chat_render), bos_token, eos_token and
every other key of the conversation object; "now_unix" fixes strftime_now's clock (UTC).
"""
import json
import os
import sys
from datetime import datetime, timezone

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.sandbox import ImmutableSandboxedEnvironment


class Generation(Extension):
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return nodes.CallBlock(self.call_method("_render"), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def make_env(now):
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(fmt):
        return now.strftime(fmt)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[Generation, jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def main():
    outdir, bos, eos = sys.argv[1:4]
    rest = sys.argv[4:]
    sep = rest.index("--")
    templates, convs = rest[:sep], rest[sep + 1:]
    for cpath in convs:
        with open(cpath, encoding="utf-8") as f:
            conv = json.load(f)
        now = datetime.fromtimestamp(conv.pop("now_unix", 0), timezone.utc)
        env = make_env(now)
        variables = dict(conv)
        variables.setdefault("tools", None)
        variables.setdefault("documents", None)
        variables.setdefault("add_generation_prompt", True)
        variables.setdefault("bos_token", bos)
        variables.setdefault("eos_token", eos)
        cname = os.path.splitext(os.path.basename(cpath))[0]
        for tpath in templates:
            tname = os.path.splitext(os.path.basename(tpath))[0]
            base = os.path.join(outdir, f"{tname}__{cname}")
            try:
                with open(tpath, encoding="utf-8") as f:
                    tmpl = env.from_string(f.read())
                out = tmpl.render(**variables)
                with open(base + ".txt", "w", encoding="utf-8", newline="") as f:
                    f.write(out)
            except Exception as e:  # any jinja2 failure: this pair is not compared
                with open(base + ".err", "w", encoding="utf-8") as f:
                    f.write(f"{type(e).__name__}: {e}\n")


if __name__ == "__main__":
    main()
