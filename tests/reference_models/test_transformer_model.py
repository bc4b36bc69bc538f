import torch

from reference_models.attention import causal_mask
from reference_models.training import train
from reference_models.transformer import CharTransformer, CharVocab, TransformerConfig, stdlib_corpus, text_batches


def test_char_transformer_learns_the_stdlib_corpus_and_generates():
    torch.manual_seed(0)
    text = stdlib_corpus()
    vocab = CharVocab(text)
    assert vocab.decode(vocab.encode(text[:200])) == text[:200]
    config = TransformerConfig(vocab_size=len(vocab.chars), block_size=32, d_model=32, n_heads=2, n_layers=1)
    model = CharTransformer(config)
    log, _ = train(model, text_batches(vocab.encode(text), 32, 16, seed=0), steps=60)
    assert log[0]["loss"] > 4.0  # about log(vocab) at the start
    assert sum(r["loss"] for r in log[-5:]) / 5 < 3.3
    out = model.generate(vocab.encode("The ")[None], 20, generator=torch.Generator().manual_seed(0))
    assert out.shape == (1, 24)


def test_future_tokens_do_not_change_past_logits():
    model = CharTransformer(TransformerConfig(vocab_size=10, block_size=8, d_model=16, n_heads=2, n_layers=2)).eval()
    a = torch.randint(0, 10, (1, 8))
    b = a.clone()
    b[0, 5:] = (b[0, 5:] + 1) % 10
    assert torch.allclose(model(a)[0, :5], model(b)[0, :5], atol=1e-6)
    assert not torch.allclose(model(a)[0, 5:], model(b)[0, 5:])
    assert causal_mask(3).tolist() == [[True, False, False], [True, True, False], [True, True, True]]
