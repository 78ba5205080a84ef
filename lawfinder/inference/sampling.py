"""Drawing token sequences from the decoder: batched softmax sampling (temperature, top-k, top-p) and beam search,
both feeding only the new token each step through the decoder's KV cache.

The model is anything with ``decode(token_ids, memory, memory_mask=None, cache=None) -> (logits, cache)`` whose cache
is the decoder's dict (``self``/``cross`` lists of (k, v) with the batch first, ``memory_mask``); rows that finish are
dropped from the cache so later steps cost only what is still being written. Sequences come back as lists of ids
without ``<bos>`` and ending before ``<eos>``; a sequence that hits ``max_len`` comes back unfinished (and will not
parse as an expression).
"""

from __future__ import annotations

import time
from typing import Any, Sequence

import torch

BOS, EOS = 1, 2


def filter_logits(logits: torch.Tensor, top_k: int | None = None, top_p: float | None = None) -> torch.Tensor:
    """Set to -inf every logit outside the ``top_k`` largest and outside the smallest set whose probability reaches
    ``top_p`` (nucleus); the most likely token always survives. ``logits`` (B, V)."""
    if top_k is not None and 0 < top_k < logits.shape[-1]:
        kth = torch.topk(logits, top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p is not None and top_p < 1.0:
        sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
        cumulative = torch.softmax(sorted_logits, dim=-1).cumsum(dim=-1)
        # Drop a token when the tokens before it already reach top_p.
        drop_sorted = (cumulative - torch.softmax(sorted_logits, dim=-1)) >= top_p
        drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
        logits = logits.masked_fill(drop, float("-inf"))
    return logits


def ban(logits: torch.Tensor, banned: torch.Tensor | None) -> torch.Tensor:
    """Logits with the ``banned`` token ids set to -inf (tokens that can never be part of a valid candidate)."""
    return logits if banned is None else logits.index_fill(-1, banned, float("-inf"))


def select_rows(cache: dict[str, Any], rows: torch.Tensor) -> dict[str, Any]:
    """The cache for a subset (or reordering, with repeats) of the batch rows.

    Tensors that are one row broadcast over the batch (stride 0, as ``expand`` makes them: every sample of one
    data set reads the same memory) stay broadcast views instead of being copied row by row."""
    def pick(t: torch.Tensor | None) -> torch.Tensor | None:
        if t is None:
            return None
        if t.shape[0] == 1 or t.stride(0) == 0:
            return t[:1].expand(rows.numel(), *t.shape[1:])
        return t.index_select(0, rows)

    return {
        **cache,
        "self": [None if kv is None else (pick(kv[0]), pick(kv[1])) for kv in cache["self"]],
        "cross": [(pick(k), pick(v)) for k, v in cache["cross"]],
        "memory_mask": pick(cache["memory_mask"]),
    }


@torch.no_grad()
def sample(model, memory: torch.Tensor, memory_mask: torch.Tensor | None, n: int, max_len: int = 64,
           temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None, batch_size: int = 128,
           generator: torch.Generator | None = None, deadline: float | None = None,
           banned: torch.Tensor | None = None, prefix: Sequence[int] = ()) -> list[list[int]]:
    """``n`` sequences sampled for one data set (``memory`` (1, M, D)), in batches of ``batch_size``; token ids in
    ``banned`` are never drawn. With a ``prefix`` every sequence starts with those ids (given, not drawn) and the
    model completes it: the refinement's "keep the first k tokens of a good candidate".

    Once ``time.time()`` passes ``deadline`` no new batch starts and the running one stops at its next step, keeping
    the sequences already finished, so fewer than ``n`` may come back."""
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    out: list[list[int]] = []
    while len(out) < n and (deadline is None or time.time() < deadline):
        out.extend(_sample_batch(model, memory, memory_mask, min(batch_size, n - len(out)), max_len, temperature,
                                 top_k, top_p, generator, banned, deadline, prefix))
    return out


def _sample_batch(model, memory, memory_mask, b, max_len, temperature, top_k, top_p, generator,
                  banned, deadline: float | None = None, prefix: Sequence[int] = ()) -> list[list[int]]:
    device = memory.device
    prefix = list(prefix)
    if len(prefix) >= max_len:
        return []
    # Every row starts from <bos> (and the prefix) on the same data: run that once and broadcast its cache to b rows.
    start = torch.tensor([[BOS, *prefix]], dtype=torch.long, device=device)
    logits, cache = model.decode(start, memory, memory_mask)
    logits, cache = logits[:, -1:].expand(b, -1, -1), select_rows(cache, torch.zeros(b, dtype=torch.long,
                                                                                     device=device))
    written = torch.zeros((b, max_len), dtype=torch.long, device=device)
    if prefix:
        written[:, :len(prefix)] = start[0, 1:]
    lengths = torch.full((b,), max_len, dtype=torch.long)
    active = torch.arange(b, device=device)  # batch rows still writing, in cache order
    for step in range(len(prefix), max_len):
        step_logits = filter_logits(ban(logits[:, -1].float(), banned) / temperature, top_k, top_p)
        probs = torch.softmax(step_logits, dim=-1)
        nxt = torch.multinomial(probs, 1, generator=generator).squeeze(1)  # (A,)
        written[active, step] = nxt
        done = nxt == EOS
        if done.any():
            lengths[active[done].cpu()] = step
            keep = (~done).nonzero().squeeze(1)
            if keep.numel() == 0:
                break
            active, nxt, cache = active[keep], nxt[keep], select_rows(cache, keep)
        if deadline is not None and time.time() > deadline:
            finished = lengths < max_len  # rows still writing would not parse: only the finished ones come back
            rows = written.cpu().tolist()
            return [row[: int(length)] for row, length, f in zip(rows, lengths, finished.tolist()) if f]
        if step + 1 < max_len:
            logits, cache = model.decode(nxt[:, None], memory, memory_mask, cache)
    rows = written.cpu().tolist()
    return [row[: int(length)] for row, length in zip(rows, lengths)]


@torch.no_grad()
def beam_search(model, memory: torch.Tensor, memory_mask: torch.Tensor | None, beam_width: int,
                max_len: int = 64, banned: torch.Tensor | None = None) -> list[list[int]]:
    """The ``beam_width`` most likely sequences (sum of log-probabilities) for one data set, best first.

    Finished beams are set aside; the search ends when ``beam_width`` have finished and no live beam can still beat
    the worst of them (log-probabilities only fall as a sequence grows), or at ``max_len``."""
    if beam_width < 1:
        raise ValueError(f"beam_width must be >= 1, got {beam_width}")
    device = memory.device
    logits, cache = model.decode(torch.full((1, 1), BOS, dtype=torch.long, device=device), memory, memory_mask)
    beams: list[list[int]] = [[]]
    scores = torch.zeros(1, device=device)
    finished: list[tuple[float, list[int]]] = []
    for step in range(max_len):
        logp = torch.log_softmax(ban(logits[:, -1].float(), banned), dim=-1) + scores[:, None]  # (W, V)
        vocab = logp.shape[-1]
        top = torch.topk(logp.flatten(), min(2 * beam_width, logp.numel()))
        parents, tokens, new_scores = [], [], []
        for value, index in zip(top.values.tolist(), top.indices.tolist()):
            parent, token = divmod(index, vocab)
            if value == float("-inf"):
                break
            if token == EOS:
                finished.append((value, beams[parent]))
            elif len(parents) < beam_width:
                parents.append(parent)
                tokens.append(token)
                new_scores.append(value)
        finished.sort(key=lambda item: -item[0])
        finished = finished[:beam_width]
        if not parents or (len(finished) == beam_width and new_scores[0] <= finished[-1][0]):
            break
        beams = [beams[p] + [t] for p, t in zip(parents, tokens)]
        scores = torch.tensor(new_scores, device=device)
        if step + 1 == max_len:
            break
        rows = torch.tensor(parents, dtype=torch.long, device=device)
        cache = select_rows(cache, rows)
        logits, cache = model.decode(torch.tensor(tokens, device=device)[:, None], memory, memory_mask, cache)
    # Unfinished beams (cut by max_len) follow the finished ones; they will not parse, but are returned honestly.
    ranked = finished + [(s, b) for s, b in zip(scores.tolist(), beams) if len(finished) < beam_width]
    return [b for _, b in ranked[:beam_width]]
