"""How deep a TOML text nests, measured before it is parsed.

``tomllib`` recurses once per nested array or inline table (1,000 levels end in a
RecursionError) and spends time and memory quadratic in the number of parts of a dotted
key (a 100 KB file with a 50,000-part key takes gigabytes). No scenario or experiment
needs more than a few levels, so ``nesting_problem`` scans the text once, in linear
time, and reports the first place that goes beyond the limits; the loader refuses such a
file before ``tomllib`` sees it. The scan knows TOML's strings and comments (a bracket or
a dot inside them does not count) and tells keys from values (the dot of ``0.5`` is not a
key's).

Written here rather than taken from a library: no maintained TOML parser offers a depth
limit, and this check needs only TOML's lexical rules.
"""

from __future__ import annotations

#: arrays and inline tables inside each other (a scenario uses at most 3)
MAX_NESTING = 32
#: parts of one dotted key or table header (a scenario uses at most 4)
MAX_KEY_PARTS = 16


def _string_end(text: str, i: int) -> int:
    """The index just after the TOML string that starts at ``text[i]`` (a quote)."""
    quote = text[i]
    if text.startswith(quote * 3, i):
        j = i + 3
        while True:
            k = text.find(quote * 3, j)
            if k == -1:
                return len(text)
            if quote == '"':
                # a closing quote preceded by an odd number of backslashes is escaped
                slashes = 0
                while k - 1 - slashes >= j and text[k - 1 - slashes] == "\\":
                    slashes += 1
                if slashes % 2:
                    j = k + 1
                    continue
            end = k + 3
            while end < len(text) and text[end] == quote and end - k < 5:
                end += 1  # up to two quotes of the content may touch the closing three
            return end
    j = i + 1
    while j < len(text):
        c = text[j]
        if c == "\\" and quote == '"':
            j += 2
            continue
        if c == quote or c == "\n":
            return j + 1
        j += 1
    return j


def nesting_problem(
    text: str, max_nesting: int = MAX_NESTING, max_key_parts: int = MAX_KEY_PARTS
) -> str | None:
    """Where a TOML text nests deeper than the limits, in words; None when it does not."""
    stack: list[str] = []  # open arrays "[" and inline tables "{" of values
    in_key = True  # reading a key (or a table header) rather than a value
    parts = 1
    line = 1
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            if not stack:
                in_key, parts = True, 1
        elif c == "#":
            end = text.find("\n", i)
            i = n if end == -1 else end
            continue
        elif c in "\"'":
            end = _string_end(text, i)
            line += text.count("\n", i, end)
            i = end
            continue
        elif in_key:
            if c == ".":
                parts += 1
                if parts > max_key_parts:
                    return f"line {line}: a dotted key of more than {max_key_parts} parts"
            elif c == "=":
                in_key, parts = False, 1
            elif c == "}" and stack and stack[-1] == "{":
                stack.pop()  # an empty inline table
                in_key = False
        elif c in "[{":
            stack.append(c)
            if len(stack) > max_nesting:
                return f"line {line}: arrays or tables nested more than {max_nesting} deep"
            if c == "{":
                in_key, parts = True, 1
        elif c in "]}":
            if stack:
                stack.pop()
        elif c == "," and stack and stack[-1] == "{":
            in_key, parts = True, 1
        i += 1
    return None
