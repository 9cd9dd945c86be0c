/*
 * test_chat_template.c — the chat-template renderer (src/chat/) through the public API:
 * language features against outputs Python's jinja2 produced for the same template and
 * variables (configured as transformers does; the expected strings below were rendered by
 * tests/chat/ref_jinja2.py's environment), the plain fallback, errors that name line and column,
 * every sandbox limit, malformed input (bad JSON, invalid UTF-8, deep nesting), and every prefix
 * of a real template (no crash, an error or an output for each).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chord.h"
#include "check.h"

typedef struct { const char *tmpl, *json, *want; } render_case;

/* Expected outputs: jinja2 3.1 (Debian python3-jinja2), bos_token "<s>", eos_token "</s>". */
static const render_case cases[] = {
    { "{% for x in [1,2,3] %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.revindex0 }}/{{ loop.first }}/{{ loop.last }}/{{ loop.length }};{% endfor %}",
      "{\"messages\":[]}",
      "1/0/3/2/True/False/3;2/1/2/1/False/False/3;3/2/1/0/False/True/3;" },
    { "{% for x in [] %}a{% else %}empty{% endfor %}",
      "{\"messages\":[]}",
      "empty" },
    { "{% for x in [1,2,3,4] if x is even %}{{ x }}:{{ loop.index }}/{{ loop.length }} {% endfor %}",
      "{\"messages\":[]}",
      "2:1/2 4:2/2 " },
    { "{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 5 %}{% break %}{% endif %}{{ i }}{% endfor %}",
      "{\"messages\":[]}",
      "0134" },
    { "{% set ns = namespace(n=0, s='') %}{% for i in range(4) %}{% set ns.n = ns.n + i %}{% set ns.s = ns.s ~ i %}{% endfor %}{{ ns.n }} {{ ns.s }}",
      "{\"messages\":[]}",
      "6 0123" },
    { "{% set x = 1 %}{% for i in [1] %}{% set x = 2 %}{{ x }}{% endfor %}{{ x }}{% if true %}{% set x = 3 %}{% endif %}{{ x }}",
      "{\"messages\":[]}",
      "213" },
    { "{% macro f(a, b='B', c=3) %}{{ a }}-{{ b }}-{{ c }}{% endmacro %}{{ f(1) }}|{{ f(1, 2) }}|{{ f(1, c=9) }}|{{ f(a='k') }}",
      "{\"messages\":[]}",
      "1-B-3|1-2-3|1-B-9|k-B-3" },
    { "{% set x %}  hi {{ 1 + 1 }} {% endset %}[{{ x }}]{% set y | trim | upper %} ab {% endset %}[{{ y }}]",
      "{\"messages\":[]}",
      "[  hi 2 ][AB]" },
    { "{{ '  a b  '|trim }}|{{ [1,2,3]|join(',') }}|{{ 'Hello'|upper }}{{ 'Hello'|lower }}|{{ 'a-b-c'|replace('-', '+') }}|{{ nope|default('d') }}|{{ ''|default('e', true) }}|{{ [3,1,2]|first }}{{ [3,1,2]|last }}|{{ 'ab'|list }}|{{ 42|string }}|{{ '12'|int + 1 }}|{{ 'hello world'|capitalize }}|{{ 'hello wORLD'|title }}|{{ {'b':1,'a':2}|dictsort }}|{{ {'a':1}|items|list }}|{{ [1,2,3]|length }}{{ 'h\303\251llo'|length }}|{{ [3,1,2]|sort }}|{{ [1,2,2,1]|unique|list }}|{{ [1,2,3]|sum }}|{{ [4,2,8]|max }}{{ [4,2,8]|min }}|{{ 'x'|indent(2, true) }}|{{ 'a\nb'|indent(2) }}|{{ -3|abs }}|{{ 2.567|round(2) }}",
      "{\"messages\":[]}",
      "a b|1,2,3|HELLOhello|a+b+c|d|e|32|['a', 'b']|42|13|Hello world|Hello World|[('a', 2), ('b', 1)]|[('a', 1)]|35|[1, 2, 3]|[1, 2]|6|82|  x|a\n  b|3|2.57" },
    { "{{ {'a': [1, 2.5, none, true], 'b': '\303\251\"\\n<'}|tojson }}|{{ {'a': {'b': [], 'c': {}}, 'd': [1]}|tojson(indent=2) }}|{{ '\303\251\360\237\230\200'|tojson(ensure_ascii=true) }}|{{ {'b':1,'a':2}|tojson(sort_keys=true) }}|{{ [1,2]|tojson(separators=(',', ':')) }}|{{ 1e20|tojson }} {{ 0.1|tojson }} {{ 100.0|tojson }} {{ 1e-7|tojson }}",
      "{\"messages\":[]}",
      "{\"a\": [1, 2.5, null, true], \"b\": \"\303\251\\\"\\n<\"}|{\n  \"a\": {\n    \"b\": [],\n    \"c\": {}\n  },\n  \"d\": [\n    1\n  ]\n}|\"\\u00e9\\ud83d\\ude00\"|{\"a\": 2, \"b\": 1}|[1,2]|1e+20 0.1 100.0 1e-07" },
    { "{{ messages|selectattr('role', 'equalto', 'user')|map(attribute='content')|join(',') }}|{{ messages|rejectattr('role', 'eq', 'user')|list|length }}|{{ ['a','b']|map('upper')|list }}|{{ messages|map(attribute='role')|first }}|{{ [0,1,2]|select|list }}|{{ [0,1,'',3]|reject|list }}|{{ messages|selectattr('role')|list|length }}",
      "{\"messages\": [{\"role\": \"system\", \"content\": \"S\"}, {\"role\": \"user\", \"content\": \"U1\"}, {\"role\": \"assistant\", \"content\": \"A1\"}, {\"role\": \"user\", \"content\": \"U2\"}]}",
      "U1,U2|2|['A', 'B']|system|[1, 2]|[0, '']|4" },
    { "{{ 'a,b,c'.split(',') }}|{{ ' a b  c '.split() }}|{{ 'a,b,c'.split(',', 1) }}|{{ 'a,b,c'.rsplit(',', 1) }}|{{ 'xxhixx'.strip('x') }}|{{ '  l'.lstrip() }}|{{ 'r  '.rstrip() }}|{{ 'abc'.startswith('ab') }}{{ 'abc'.endswith(('x','c')) }}|{{ 'Hi {}! {}'.format('you', 2) }}|{{ 'aXa'.replace('a','b') }}|{{ 'hey'.upper() }}{{ 'HEY'.lower() }}|{{ 'ab cd'.title() }}|{{ 'abcabc'.find('c') }}{{ 'abcabc'.count('b') }}|{{ 'x'.join(['1','2']) }}|{{ 'a\\nb'.splitlines() }}|{{ '%s=%d' % ('k', 3) }}",
      "{\"messages\":[]}",
      "['a', 'b', 'c']|['a', 'b', 'c']|['a', 'b,c']|['a,b', 'c']|hi|l|r|TrueTrue|Hi you! 2|bXb|HEYhey|Ab Cd|22|1x2|['a', 'b']|k=3" },
    { "{% set d = {'k': 1, 'j': 2} %}{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{{ d.keys()|list }}{{ d.values()|list }}{{ d.get('k') }}{{ d.get('z', 'none') }}{{ d.get('z') }}{% for k in d %}{{ k }}{% endfor %}{{ d['j'] }}{{ d.j }}",
      "{\"messages\":[]}",
      "k=1;j=2;['k', 'j'][1, 2]1noneNonekj22" },
    { "{{ x is defined }}{{ y is undefined }}{{ none is none }}{{ 'a' is string }}{{ {} is mapping }}{{ [] is iterable }}{{ 'a' is sequence }}{{ 1 is number }}{{ true is boolean }}{{ true is true }}{{ false is false }}{{ 3 is odd }}{{ 4 is even }}{{ 1 is eq 1 }}{{ 'a' is in 'abc' }}{{ 1 is not string }}{{ 6 is divisibleby 3 }}{{ 2 is integer }}{{ 2.0 is float }}{{ y is not defined }}{{ x is not none }}{{ 1 is equalto(1) }}{{ 2 is gt 1 }}",
      "{\"x\": 1, \"messages\": []}",
      "TrueTrueTrueTrueTrueTrueTrueTrueTrueTrueTrueTrueTrueTrueTrueTrueTrueTrueTrueTrueTrueTrueTrue" },
    { "{{ 1 in [1,2] }}{{ 3 not in [1,2] }}{{ 'b' in 'abc' }}{{ 'k' in {'k':1} }}|{{ 7 // 2 }} {{ 7 % 3 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 2 ** 10 }} {{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 1.5 + 1 }} {{ 10 / 4 * 2 }} {{ -2 }}|{{ 'a' ~ 1 ~ none ~ true }}|{{ 'ab' * 3 }}|{{ 1 < 2 < 3 }}{{ 1 == 1.0 }}{{ 'a' != 'b' }}{{ 'abc' < 'abd' }}{{ [1,2] == [1,2] }}{{ true == 1 }}|{{ [1] + [2] }}",
      "{\"messages\":[]}",
      "TrueTrueTrueTrue|3 1 -4 2 3.5 1024 7 9 2.5 5.0 -2|a1NoneTrue|ababab|TrueTrueTrueTrueTrueTrue|[1, 2]" },
    { "{{ [1,2,3,4][1:3] }}{{ [1,2,3,4][::-1] }}{{ 'h\303\251llo'[1:] }}{{ 'abc'[::-1] }}{{ [1,2,3][-1] }}{{ 'abc'[0] }}{{ [1,2,3,4,5][::2] }}{{ [1,2,3][5:] }}{{ 'h\303\251'[-1] }}{{ [1,2,3,4][-2:] }}{{ [1,2,3,4][:-1] }}",
      "{\"messages\":[]}",
      "[2, 3][4, 3, 2, 1]\303\251llocba3a[1, 3, 5][]\303\251[3, 4][1, 2, 3]" },
    { "{{ 'y' if true else 'n' }}[{{ 'y' if false }}]|{{ none or 'd' }}{{ 0 and 1 }}{{ not true }}{{ not 0 }}{{ 1 if x else 2 if y else 3 }}",
      "{\"y\": 1, \"messages\": []}",
      "y[]|d0FalseTrue2" },
    { "a  {%- if true -%}  b  {%- endif -%}  c|{{- ' x ' -}}  |\nline1\n    {% if true %}\n    yes\n    {% endif %}\nline2\n  {# c #}\nz\n{%+ if true %}p{% endif %}\n",
      "{\"messages\":[]}",
      "abc| x |\nline1\n    yes\nline2\nz\np" },
    { "a{# comment #}b {#- c -#} c {# multi\nline #}\nd",
      "{\"messages\":[]}",
      "abc d" },
    { "{{ strftime_now('%d %b %Y %H:%M:%S %A %B %j %-d %y %p %I') }}",
      "{\"now_unix\": 1764589500, \"messages\": []}",
      "01 Dec 2025 11:45:00 Monday December 335 1 25 AM 11" },
    { "{{ 'a\\nb\\t\\u00e9\\x41\\'\\\"\\\\' }}{{ \"dq 'x'\" }}{{ 'con' 'cat' }}",
      "{\"messages\":[]}",
      "a\nb\t\303\251A'\"\\dq 'x'concat" },
    { "{% for x in 'abc' %}{{ loop.previtem|default('-') }}{{ x }}{{ loop.nextitem|default('-') }}{{ loop.cycle('o', 'e') }} {% endfor %}",
      "{\"messages\":[]}",
      "-abo abce bc-o " },
    { "{% macro r(n) %}{% if n > 0 %}{{ n }}{{ r(n - 1) }}{% endif %}{% endmacro %}{{ r(3) }}",
      "{\"messages\":[]}",
      "321" },
    { "{{ messages[0]['content'] }}{{ messages[0].content }}{{ messages[-1].role }}{{ messages|length }}{{ messages[9] is defined }}{{ messages[0].nokey is defined }}",
      "{\"messages\": [{\"role\": \"system\", \"content\": \"S\"}, {\"role\": \"user\", \"content\": \"U1\"}, {\"role\": \"assistant\", \"content\": \"A1\"}, {\"role\": \"user\", \"content\": \"U2\"}]}",
      "SSuser4FalseFalse" },
    { "{{ [1, 'a', none, true, 1.5, {'k': 'v'}, (1, 2), \"it's\", 'q\"'] }}|{{ (1,) }}|{{ 1.0 }} {{ 1e16 }} {{ 0.0001 }} {{ 1e-05 }} {{ 123456789.123 }} {{ -0.5 }} {{ 3.0 * 1.1 }}",
      "{\"messages\":[]}",
      "[1, 'a', None, True, 1.5, {'k': 'v'}, (1, 2), \"it's\", 'q\"']|(1,)|1.0 1e+16 0.0001 1e-05 123456789.123 -0.5 3.3000000000000003" },
    { "{% macro w(cls) %}<{{ cls }}:{{ caller() }}>{% endmacro %}{% call w('c') %}in{% endcall %}|{% filter upper %}abc{% endfilter %}|{{ range(3)|list }}{{ range(1, 10, 3)|list }}{{ range(3, 0, -1)|list }}|{% generation %}gen{% endgeneration %}",
      "{\"messages\":[]}",
      "<c:in>|ABC|[0, 1, 2][1, 4, 7][3, 2, 1]|gen" },
    { "{{ '<'|safe + '<&' }}|{{ '<' ~ '<'|safe }}|{{ '<x>'|e }}",
      "{\"messages\":[]}",
      "<&lt;&amp;|<<|&lt;x&gt;" },
    { "{% set a, b = [1, 2] %}{{ a }}{{ b }}{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }}{% endfor %}{% set t = 1, 2 %}{{ t }}",
      "{\"messages\":[]}",
      "1237(1, 2)" },
    { "{{ bos_token }}{% for m in messages %}{{ m.role }}:{{ m.content }}{{ eos_token }}{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}{{ tools is none }}{{ documents is none }}",
      "{\"messages\": [{\"role\": \"system\", \"content\": \"S\"}, {\"role\": \"user\", \"content\": \"U1\"}, {\"role\": \"assistant\", \"content\": \"A1\"}, {\"role\": \"user\", \"content\": \"U2\"}]}",
      "<s>system:S</s>user:U1</s>assistant:A1</s>user:U2</s>assistant:TrueTrue" },
    { "{% for i in [1,2] %}{% if i == 2 %}{{ x is defined }}{% endif %}{% set x = i %}{% endfor %}|{% for i in range(3, 0, -1) %}{{ loop.previtem|default('-') }}{{ i }}{{ loop.nextitem|default('-') }} {% endfor %}|{% for i in range(0) %}x{% else %}none{% endfor %}|{% for i in range(1, 8, 3) %}{{ i }}{% endfor %}",
      "{\"messages\":[]}",
      "False|-32 321 21- |none|147" },
};

static chord_status render(const char *tmpl, const char *json, const chord_chat_limits *lim, char **out, chord_error *err) {
    size_t n = 0;
    return chord_chat_render_template_ex(tmpl, tmpl ? strlen(tmpl) : 0, "<s>", "</s>", json, strlen(json), lim, out, &n, err);
}

static void test_cases(void) {
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = NULL;
        chord_error err = { 0 };
        chord_status st = render(cases[i].tmpl, cases[i].json, NULL, &out, &err);
        CHECKF(st == CHORD_OK, "case %zu: %s", i, err.message);
        if (st == CHORD_OK) CHECKF(strcmp(out, cases[i].want) == 0, "case %zu:\n  got  [%s]\n  want [%s]", i, out, cases[i].want);
        chord_free(out);
    }
}

/* An error case: the status, and substrings the message must contain (line/column, cause). */
static void expect_err(const char *tmpl, const char *json, const chord_chat_limits *lim, chord_status want,
                       const char *sub1, const char *sub2) {
    char *out = NULL;
    chord_error err = { 0 };
    chord_status st = render(tmpl, json, lim, &out, &err);
    CHECKF(st == want, "[%s]: status %s, want %s (%s)", tmpl, chord_status_name(st), chord_status_name(want), err.message);
    CHECKF(out == NULL, "[%s]: output on error", tmpl);
    if (sub1) CHECKF(strstr(err.message, sub1) != NULL, "[%s]: message '%s' lacks '%s'", tmpl, err.message, sub1);
    if (sub2) CHECKF(strstr(err.message, sub2) != NULL, "[%s]: message '%s' lacks '%s'", tmpl, err.message, sub2);
    chord_free(out);
}

static void test_errors(void) {
    const char *j = "{\"messages\":[]}";
    expect_err("{% if x %}abc", j, NULL, CHORD_E_FORMAT, "line 1 column 14", "endif");
    expect_err("ok\n{{ 1 + }}", j, NULL, CHORD_E_FORMAT, "line 2 column 8", "'}}'");
    expect_err("\n\n  {{ foo.bar }}", j, NULL, CHORD_E_FORMAT, "line 3 column 9", "'foo' is undefined");
    expect_err("{% for %}{% endfor %}", j, NULL, CHORD_E_FORMAT, "line 1 column 8", "variable name");
    expect_err("{{ 1|nofilter }}", j, NULL, CHORD_E_FORMAT, "line 1", "No filter named 'nofilter'");
    expect_err("{{ 1 is nosuchtest }}", j, NULL, CHORD_E_FORMAT, "line 1", "No test named 'nosuchtest'");
    expect_err("x\n {% include 'other' %}", j, NULL, CHORD_E_FORMAT, "line 2 column 5", "'include'");
    expect_err("{{ [].append(1) }}", j, NULL, CHORD_E_FORMAT, "line 1", "unsafe");
    expect_err("{{ {}.update({}) }}", j, NULL, CHORD_E_FORMAT, "line 1", "unsafe");
    expect_err("{%- if true -%}\n{{ raise_exception('Only user and assistant roles!') }}{% endif %}", j, NULL,
               CHORD_E_FORMAT, "line 2 column 4", "Only user and assistant roles!");
    expect_err("{{ 1 / 0 }}", j, NULL, CHORD_E_FORMAT, "line 1", "division by zero");
    expect_err("{{ 'a' + 1 }}", j, NULL, CHORD_E_FORMAT, "line 1", "unsupported operand");
    expect_err("{% break %}", j, NULL, CHORD_E_FORMAT, "line 1", "outside of a loop");
    expect_err("{{ 'unterminated }}", j, NULL, CHORD_E_FORMAT, "line 1", "unterminated string");
    expect_err("{# never closed", j, NULL, CHORD_E_FORMAT, "line 1 column 1", "comment");
    expect_err("{% endfor %}", j, NULL, CHORD_E_FORMAT, "line 1", "unexpected tag 'endfor'");
    expect_err("{{ none.x.y }}", j, NULL, CHORD_E_FORMAT, "line 1", "undefined");
    expect_err("{{ x }}", "{\"messages\": [}", NULL, CHORD_E_INVALID_ARG, "byte 14", NULL);
    expect_err("{{ x }}", "[1]", NULL, CHORD_E_INVALID_ARG, "object", NULL);
    expect_err("{{ x }}", "{\"messages\": 1}", NULL, CHORD_E_INVALID_ARG, "messages", NULL);
    expect_err("{{ x }}", "{\"messages\": [], \"add_generation_prompt\": 1}", NULL, CHORD_E_INVALID_ARG, "add_generation_prompt", NULL);
    expect_err("{{ x }}", "{\"messages\": [\"\\ud800\"]}", NULL, CHORD_E_INVALID_ARG, "surrogate", NULL);
    expect_err("{{ x }}", "{\"messages\": [], \"n\": 99999999999999999999}", NULL, CHORD_E_INVALID_ARG, "64-bit", NULL);
    expect_err("a\xff", j, NULL, CHORD_E_FORMAT, "UTF-8", NULL);
    expect_err("{{ '%s %s' % ('a',) }}", j, NULL, CHORD_E_FORMAT, "line 1", "not enough arguments");
}

static void test_limits(void) {
    const char *j = "{\"messages\":[]}";
    chord_chat_limits lim = chord_chat_limits_default();
    CHECK(lim.max_output_bytes == ((size_t)16 << 20) && lim.max_steps == 10000000 && lim.max_depth == 200);
    lim.max_steps = 1000;
    expect_err("{% for i in range(100) %}{% for j in range(100) %}{% endfor %}{% endfor %}", j, &lim, CHORD_E_RANGE, "steps", "line 1");
    expect_err("{% for i in range(100000) %}{% endfor %}", j, &lim, CHORD_E_RANGE, "steps", NULL);
    lim = chord_chat_limits_default();
    lim.max_output_bytes = 100;
    expect_err("{% for i in range(1000) %}xxxxxxxxxx{% endfor %}", j, &lim, CHORD_E_RANGE, "output", NULL);
    lim = chord_chat_limits_default();
    expect_err("{% macro r() %}{{ r() }}{% endmacro %}{{ r() }}", j, &lim, CHORD_E_RANGE, "nested deeper", NULL);
    lim.max_memory_bytes = 1 << 20;
    expect_err("{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}",
               j, &lim, CHORD_E_RANGE, "memory", NULL);
    /* Loops do not allocate per iteration: 2,001,000 iterations of a range() loop nested in a
     * loop (the shape of templates that look back over the messages) fit in 4 MiB of memory. */
    lim = chord_chat_limits_default();
    lim.max_memory_bytes = 4 << 20;
    {
        const char *t = "{% set ns = namespace(n=0) %}{% for i in range(2000) %}{% for j in range(i, -1, -1) %}"
                        "{% set k = j %}{% endfor %}{% endfor %}done";
        char *out = NULL;
        size_t n = 0;
        chord_error err = { 0 }, *e = &err;
        CHECK_OK(chord_chat_render_template_ex(t, strlen(t), NULL, NULL, j, strlen(j), &lim, &out, &n, e), e);
        CHECK(out && strcmp(out, "done") == 0);
        chord_free(out);
    }
    /* Parser recursion is bounded too: 5000 nested parentheses are an error, not a stack overflow. */
    size_t depth = 5000;
    char *deep = malloc(depth * 2 + 16);
    size_t k = 0;
    memcpy(deep, "{{ ", 3); k = 3;
    for (size_t i = 0; i < depth; i++) deep[k++] = '(';
    deep[k++] = '1';
    for (size_t i = 0; i < depth; i++) deep[k++] = ')';
    memcpy(deep + k, " }}", 4);
    expect_err(deep, j, NULL, CHORD_E_RANGE, "nesting", NULL);
    /* Deep JSON as well. */
    char *dj = malloc(depth * 2 + 64);
    k = (size_t)sprintf(dj, "{\"messages\": [], \"x\": ");
    for (size_t i = 0; i < depth; i++) dj[k++] = '[';
    for (size_t i = 0; i < depth; i++) dj[k++] = ']';
    dj[k++] = '}'; dj[k] = 0;
    expect_err("{{ x }}", dj, NULL, CHORD_E_INVALID_ARG, "too deep", NULL);
    free(deep);
    free(dj);
}

static void test_fallback(void) {
    const char *j = "{\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Hi\"}]}]}";
    char *out = NULL;
    size_t n = 0;
    chord_error err = { 0 }, *e = &err;
    CHECK_OK(chord_chat_render_template(NULL, 0, "<s>", "</s>", j, strlen(j), &out, &n, e), e);
    CHECK(out && strcmp(out, "system: Be brief.\n\nuser: Hi\n\nassistant: ") == 0 && n == strlen(out));
    chord_free(out);
    const char *j2 = "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"add_generation_prompt\":false}";
    out = NULL;
    CHECK_OK(chord_chat_render_template(NULL, 0, NULL, NULL, j2, strlen(j2), &out, &n, e), e);
    CHECK(out && strcmp(out, "user: Hi\n\n") == 0);
    chord_free(out);
    chord_free(NULL);
}

/* No bos_token given: undefined in the template (as transformers when the tokenizer has none). */
static void test_undefined_tokens(void) {
    const char *t = "{{ bos_token is defined }}|{{ bos_token }}|", *j = "{\"messages\":[]}";
    char *out = NULL;
    size_t n = 0;
    chord_error err = { 0 }, *e = &err;
    CHECK_OK(chord_chat_render_template(t, strlen(t), NULL, NULL, j, strlen(j), &out, &n, e), e);
    CHECK(out && strcmp(out, "False||") == 0);
    chord_free(out);
}

/* Every prefix of a real-shaped template renders or fails cleanly (never crashes or hangs). */
static void test_prefixes(void) {
    const char *t =
        "{%- set ns = namespace(sys='') -%}{% for m in messages %}{% if m.role == 'system' %}"
        "{% set ns.sys = m.content|trim %}{% endif %}{% endfor %}{{ bos_token }}"
        "{%- for m in messages if m.role != 'system' -%}<|{{ m.role }}|>\n{{ m.content }}{{ '<|end|>\\n' }}"
        "{%- if loop.last and add_generation_prompt %}<|assistant|>{% endif %}{% endfor %}"
        "{# done #}{{ ns.sys[:3] ~ (tools|tojson if tools else '') }}";
    const char *j = "{\"messages\":[{\"role\":\"system\",\"content\":\" S \"},{\"role\":\"user\",\"content\":\"U\"}]}";
    size_t len = strlen(t), ok = 0, errs = 0;
    for (size_t i = 0; i <= len; i++) {
        char *out = NULL;
        size_t n = 0;
        chord_error err = { 0 };
        chord_status st = chord_chat_render_template(t, i, "<s>", "</s>", j, strlen(j), &out, &n, &err);
        if (st == CHORD_OK) ok++;
        else { errs++; CHECKF(err.message[0] != 0 && out == NULL, "prefix %zu: empty message", i); }
        chord_free(out);
    }
    CHECK(ok > 0 && errs > 0);
    char *out = NULL;
    size_t n = 0;
    chord_error err = { 0 }, *e = &err;
    CHECK_OK(chord_chat_render_template(t, len, "<s>", "</s>", j, strlen(j), &out, &n, e), e);
    CHECK(out && strcmp(out, "<s><|user|>\nU<|end|>\n<|assistant|>S") == 0);
    chord_free(out);
}

int main(void) {
    test_cases();
    test_errors();
    test_limits();
    test_fallback();
    test_undefined_tokens();
    test_prefixes();
    return check_report("test_chat_template");
}
