"""Sampling from the decoder: top-k/top-p filtering, KV-cached sampling against full recomputation on a tiny random
model, beam search order, and the model proposer's decoding of samples into candidates."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from lawfinder.inference.sampling import BOS, EOS, beam_search, filter_logits, sample  # noqa: E402
from lawfinder.model import build_model, get_preset  # noqa: E402


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    model = build_model(get_preset("flash-tiny")).eval()
    X = torch.rand(1, 40, 2)
    y = X[..., 0] * 2.0
    memory = model.encode(X, y, torch.ones(1, 40, dtype=torch.bool), torch.ones(1, 2, dtype=torch.bool))
    return model, memory


def test_top_k_keeps_the_k_largest():
    logits = torch.tensor([[1.0, 3.0, 2.0, 0.0]])
    out = filter_logits(logits, top_k=2)
    assert torch.isinf(out[0, [0, 3]]).all() and torch.equal(out[0, [1, 2]], logits[0, [1, 2]])


def test_top_p_keeps_the_smallest_set_reaching_p():
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    assert torch.isfinite(filter_logits(logits, top_p=0.7)).tolist() == [[True, True, False, False]]
    assert torch.isfinite(filter_logits(logits, top_p=0.8)).tolist() == [[True, True, False, False]]
    assert torch.isfinite(filter_logits(logits, top_p=0.81)).tolist() == [[True, True, True, False]]
    assert torch.isfinite(filter_logits(logits, top_p=0.1)).tolist() == [[True, False, False, False]]


def _greedy_without_cache(model, memory, max_len):
    tokens = [BOS]
    for _ in range(max_len):
        logits, _ = model.decode(torch.tensor([tokens]), memory)
        nxt = int(logits[0, -1].argmax())
        if nxt == EOS:
            break
        tokens.append(nxt)
    return tokens[1:]


def test_cached_sampling_matches_full_recomputation(tiny):
    model, memory = tiny
    expected = _greedy_without_cache(model, memory, 12)
    got = sample(model, memory, None, n=5, max_len=12, top_k=1, batch_size=3)
    assert got == [expected] * 5
    assert beam_search(model, memory, None, beam_width=1, max_len=12)[0] == expected


def test_a_forced_prefix_is_kept_and_completed_as_the_model_would(tiny):
    """Greedy completion of a prefix equals greedy decoding that reads the prefix token by token: the prefix is
    decoded in one call, then the cache goes on from it."""
    model, memory = tiny
    prefix = _greedy_without_cache(model, memory, 12)[:3] or [5, 6, 7]
    tokens = [BOS, *prefix]
    for _ in range(12 - len(prefix)):
        logits, _ = model.decode(torch.tensor([tokens]), memory)
        nxt = int(logits[0, -1].argmax())
        if nxt == EOS:
            break
        tokens.append(nxt)
    got = sample(model, memory, None, n=4, max_len=12, top_k=1, batch_size=2, prefix=prefix)
    assert got == [tokens[1:]] * 4
    forced = sample(model, memory, None, n=6, max_len=12, batch_size=6, prefix=[7, 8],
                    generator=torch.Generator().manual_seed(0))
    assert all(row[:2] == [7, 8] for row in forced)


def test_sampling_is_reproducible_and_batched(tiny):
    model, memory = tiny
    a = sample(model, memory, None, n=50, max_len=10, batch_size=16, generator=torch.Generator().manual_seed(1))
    b = sample(model, memory, None, n=50, max_len=10, batch_size=16, generator=torch.Generator().manual_seed(1))
    assert a == b and len(a) == 50
    assert all(len(s) <= 10 and EOS not in s for s in a)
    assert len({tuple(s) for s in a}) > 1  # a random model at temperature 1 does not repeat itself


class ScriptedDecoder:
    """A decoder whose next-token distribution depends only on the previous token (a bigram table): enough to
    know the exact sequence probabilities that beam search must rank."""

    def __init__(self, table: dict[int, dict[int, float]], vocab: int = 6):
        self.table, self.vocab = table, vocab

    def decode(self, tokens, memory, memory_mask=None, cache=None):
        cache = cache or {"length": 0, "self": [], "cross": [], "memory_mask": None}
        logits = torch.full((tokens.shape[0], tokens.shape[1], self.vocab), -1e9)
        for row, last in enumerate(tokens[:, -1].tolist()):
            for nxt, p in self.table.get(last, {EOS: 1.0}).items():
                logits[row, -1, nxt] = float(np.log(p))
        return logits, {**cache, "length": cache["length"] + tokens.shape[1]}


def test_beam_search_returns_most_likely_sequences_first():
    # From <bos>: 3 (0.6) then <eos>, or 4 (0.4) then 5 (0.9) / <eos> (0.1).
    decoder = ScriptedDecoder({BOS: {3: 0.6, 4: 0.4}, 3: {EOS: 1.0}, 4: {5: 0.9, EOS: 0.1}, 5: {EOS: 1.0}})
    memory = torch.zeros(1, 1, 4)
    assert beam_search(decoder, memory, None, beam_width=3, max_len=5) == [[3], [4, 5], [4]]
    assert beam_search(decoder, memory, None, beam_width=1, max_len=5) == [[3]]


def test_model_proposer_decodes_samples_to_token_lists(tiny):
    from lawfinder.inference.proposal import ModelProposer, SamplingConfig

    model, _ = tiny
    rng = np.random.default_rng(0)
    X = rng.uniform(1, 2, (3000, 2))
    proposer = ModelProposer(model, SamplingConfig(n_samples=20, max_length=8, max_points=64), seed=0)
    out = proposer(X, X[:, 0] * 3)
    assert len(out) == 20 and all(isinstance(t, str) for seq in out for t in seq)
    with pytest.raises(ValueError, match="float32"):
        proposer(X, np.full(3000, 1e300))


def test_banned_tokens_are_never_drawn(tiny):
    from lawfinder.inference.proposal import banned_ids
    from lawfinder.model import get_tokenizer

    model, memory = tiny
    tokenizer = get_tokenizer("prefix")
    banned = banned_ids(tokenizer, 2)
    assert {tokenizer.vocab[i] for i in banned} == {"<pad>", "<bos>", "<unk>", *(f"x{i}" for i in range(3, 18))}
    banned_t = torch.tensor(banned)
    drawn = sample(model, memory, None, n=64, max_len=12, banned=banned_t, generator=torch.Generator().manual_seed(0))
    drawn += beam_search(model, memory, None, beam_width=4, max_len=12, banned=banned_t)
    assert not set(banned) & {i for seq in drawn for i in seq}


def test_a_deadline_stops_the_running_batch_and_keeps_only_finished_sequences(tiny, monkeypatch):
    import lawfinder.inference.sampling as sampling

    model, memory = tiny
    clock = iter(range(1000))
    monkeypatch.setattr(sampling.time, "time", lambda: float(next(clock)))  # one second per look at the clock
    drawn = sample(model, memory, None, n=64, max_len=40, batch_size=64, deadline=3.0,
                   generator=torch.Generator().manual_seed(0))
    assert len(drawn) < 64  # the batch was cut after a couple of steps
    assert all(len(row) < 40 for row in drawn)  # and no unfinished row came back
