"""Starting a lineage from a narrower model: the 3-variable shipped model's weights in the 17-variable shape.

Every tensor of the two Set-Transformer models has the same shape except the encoder's input embedding, whose input
is 32 IEEE-754 bits per column, the variables first and y last. Its columns for x1..x3 and for y are copied from the
narrow model; those of the new variables start at zero, so the widened model reads a narrow table exactly as the
narrow one did and learns the new columns from their gradients.
"""

from __future__ import annotations

BITS = 32
EMBED = "encoder.embed.weight"


def widen_state(narrow: dict, narrow_variables: int, wide: dict, wide_variables: int) -> dict:
    """A state dict for the wide model: ``wide``'s own tensors where the narrow one has none of the same shape,
    ``narrow``'s everywhere else, the input embedding merged column block by column block. ValueError when
    another tensor's shape differs (the two are not the same architecture apart from the width)."""
    if wide_variables < narrow_variables:
        raise ValueError(f"cannot narrow a {narrow_variables}-variable model to {wide_variables} variables")
    out = {}
    for key, tensor in wide.items():
        if key not in narrow:
            raise ValueError(f"the narrow model has no tensor {key!r}: not the same architecture")
        old = narrow[key]
        if key == EMBED:
            merged = tensor.new_zeros(tensor.shape)
            merged[:, : narrow_variables * BITS] = old[:, : narrow_variables * BITS]
            merged[:, wide_variables * BITS:] = old[:, narrow_variables * BITS:]
            out[key] = merged
        elif tuple(old.shape) != tuple(tensor.shape):
            raise ValueError(f"tensor {key!r} is {tuple(old.shape)} in the narrow model and {tuple(tensor.shape)} "
                             f"in the wide one: only the input embedding may differ")
        else:
            out[key] = old.to(tensor.dtype).clone()
    return out


def warm_start(model, path) -> str:
    """Load ``path``'s weights into ``model`` (same architecture, or the same but narrower); returns a note saying
    what was done."""
    import hashlib
    from dataclasses import replace
    from pathlib import Path

    from ..model.checkpoint import load_model

    narrow, config = load_model(path)
    ours = model.config
    if replace(config, max_variables=ours.max_variables, dropout=ours.dropout, input_noise=ours.input_noise,
               max_len=ours.max_len) != ours:
        raise ValueError(f"--init-from {str(path)!r}: its model is not this shape apart from the variable count "
                         f"({config} vs {ours})")
    state = widen_state(narrow.state_dict(), config.max_variables, model.state_dict(), ours.max_variables)
    model.load_state_dict(state)
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]
    return (f"warm start from {Path(path).name} ({digest}, {config.max_variables} variables widened to "
            f"{ours.max_variables})")
