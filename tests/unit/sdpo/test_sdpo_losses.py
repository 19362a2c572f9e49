"""Loss functions against hand-computed values, full-vocabulary identities and gradchecks."""

from __future__ import annotations

import math

import pytest
import torch

from sdpo import losses


def _log(values):
    return torch.tensor(values, dtype=torch.float64).log()


def test_token_advantages_are_teacher_minus_student_and_zero_on_padding():
    student = torch.tensor([[-1.0, -2.0, -9.0]])
    teacher = torch.tensor([[-0.5, -3.0, 7.0]])
    mask = torch.tensor([[1.0, 1.0, 0.0]])
    adv = losses.token_advantages(teacher, student, mask)
    assert adv.tolist() == [[0.5, -1.0, 0.0]]


def test_token_advantages_centring_subtracts_each_sequences_own_mean():
    student = torch.tensor([[-1.0, -2.0, 0.0], [-1.0, -1.0, -1.0]])
    teacher = torch.tensor([[-0.5, -3.0, 5.0], [0.0, -1.0, -2.0]])
    mask = torch.tensor([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0]])
    adv = losses.token_advantages(teacher, student, mask, centre=True)
    # row 0: A = [0.5, -1.0] (mean -0.25); row 1: A = [1, 0, -1] (mean 0)
    assert adv.tolist() == [[0.75, -0.75, 0.0], [1.0, 0.0, -1.0]]


def test_token_level_loss_matches_hand_computation_and_ignores_padding():
    student = torch.tensor([[-1.0, -2.0, -50.0]])
    adv = torch.tensor([[0.5, -1.0, 3.0]])
    mask = torch.tensor([[1.0, 1.0, 0.0]])
    # -(0.5 * -1 + -1 * -2) / 2 = -0.75
    assert losses.token_level_loss(student, adv, mask).item() == pytest.approx(-0.75)
    # an explicit normaliser (gradient accumulation) replaces the token count
    assert losses.token_level_loss(student, adv, mask, normaliser=6.0).item() == pytest.approx(-0.25)


def test_token_level_loss_scales_each_token_by_its_importance_weight():
    student = torch.tensor([[-1.0, -2.0]])
    old = torch.tensor([[-1.5, -1.0]])
    weights = losses.importance_weights(student, old, clip=1.2)
    # exp(0.5) = 1.65 is capped at 1.2; exp(-1) = 0.368 stays
    assert weights[0].tolist() == pytest.approx([1.2, math.exp(-1.0)])
    adv = torch.tensor([[0.5, -1.0]])
    loss = losses.token_level_loss(student, adv, torch.ones(1, 2), weights=weights)
    assert loss.item() == pytest.approx(-(1.2 * 0.5 * -1.0 + math.exp(-1.0) * -1.0 * -2.0) / 2)


def test_sequence_level_loss_uses_the_summed_advantage_for_every_token():
    student = torch.tensor([[-1.0, -2.0, -7.0]])
    adv = torch.tensor([[0.5, -1.0, 4.0]])
    mask = torch.tensor([[1.0, 1.0, 0.0]])
    rewards = losses.sequence_rewards(adv, mask)
    assert rewards.tolist() == [-0.5]
    # -(-0.5) * (-1 - 2) / 2 = -0.75
    assert losses.sequence_level_loss(student, rewards, mask).item() == pytest.approx(-0.75)


def _three_token_case():
    student = _log([0.7, 0.2, 0.1]).view(1, 1, 3)
    teacher = _log([0.5, 0.3, 0.2]).view(1, 1, 3)
    return student, teacher


def test_top1_with_tail_bucket_reverse_kl_matches_hand_computation():
    student, teacher = _three_token_case()
    # buckets: student [0.7, 0.3], teacher [0.5, 0.5]
    expected = 0.7 * math.log(0.7 / 0.5) + 0.3 * math.log(0.3 / 0.5)
    loss = losses.logit_level_loss(student, teacher, torch.ones(1, 1), k=1, kind="reverse_kl")
    assert loss.item() == pytest.approx(expected, abs=1e-12)


def test_top1_with_tail_bucket_forward_kl_and_jsd_match_hand_computation():
    student, teacher = _three_token_case()
    forward = 0.5 * math.log(0.5 / 0.7) + 0.5 * math.log(0.5 / 0.3)
    mix = [0.6, 0.4]
    jsd = 0.5 * (0.7 * math.log(0.7 / mix[0]) + 0.3 * math.log(0.3 / mix[1])) + 0.5 * (
        0.5 * math.log(0.5 / mix[0]) + 0.5 * math.log(0.5 / mix[1])
    )
    mask = torch.ones(1, 1)
    assert losses.logit_level_loss(student, teacher, mask, 1, "forward_kl").item() == pytest.approx(forward)
    assert losses.logit_level_loss(student, teacher, mask, 1, "jsd", alpha=0.5).item() == pytest.approx(jsd)


def test_jsd_alpha_weights_the_teacher_side_of_the_mixture():
    s = _log([0.7, 0.3])
    t = _log([0.5, 0.5])
    alpha = 0.2
    m = [0.8 * 0.7 + 0.2 * 0.5, 0.8 * 0.3 + 0.2 * 0.5]
    expected = 0.8 * (0.7 * math.log(0.7 / m[0]) + 0.3 * math.log(0.3 / m[1])) + 0.2 * (
        0.5 * math.log(0.5 / m[0]) + 0.5 * math.log(0.5 / m[1])
    )
    assert losses.divergence(s, t, "jsd", alpha).item() == pytest.approx(expected)


@pytest.mark.parametrize("kind", ["reverse_kl", "forward_kl", "jsd"])
@pytest.mark.parametrize("k_offset", [0, 1])
def test_topk_equals_full_vocabulary_divergence_when_k_covers_the_vocabulary(kind, k_offset):
    # K = V leaves no tail; K = V - 1 leaves a one-token tail, which is that token exactly.
    torch.manual_seed(0)
    student = torch.randn(2, 3, 11, dtype=torch.float64)
    teacher = torch.randn(2, 3, 11, dtype=torch.float64)
    mask = torch.tensor([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0]], dtype=torch.float64)
    full = losses.divergence(student.log_softmax(-1), teacher.log_softmax(-1), kind)
    expected = (full * mask).sum() / mask.sum()
    got = losses.logit_level_loss(student, teacher, mask, k=11 - k_offset, kind=kind)
    assert got.item() == pytest.approx(expected.item(), abs=1e-12)


def test_reverse_kl_full_vocabulary_helper_matches_definition():
    student, teacher = _three_token_case()
    expected = sum(p * math.log(p / q) for p, q in zip([0.7, 0.2, 0.1], [0.5, 0.3, 0.2]))
    assert losses.full_kl(student, teacher).item() == pytest.approx(expected)


def test_top_k_support_is_the_students_not_the_teachers():
    student = _log([0.1, 0.6, 0.3]).view(1, 1, 3)
    teacher = _log([0.8, 0.1, 0.1]).view(1, 1, 3)
    s, t = losses.topk_with_tail(student, teacher, k=1)
    assert s.exp().flatten().tolist() == pytest.approx([0.6, 0.4])
    assert t.exp().flatten().tolist() == pytest.approx([0.1, 0.9])


def test_logit_loss_gradient_reaches_tail_tokens_and_never_the_teacher():
    torch.manual_seed(1)
    student = torch.randn(1, 2, 8, dtype=torch.float64, requires_grad=True)
    teacher = torch.randn(1, 2, 8, dtype=torch.float64, requires_grad=True)
    losses.logit_level_loss(student, teacher, torch.ones(1, 2, dtype=torch.float64), k=3).backward()
    top = student.detach().topk(3, dim=-1).indices
    tail = torch.ones_like(student, dtype=torch.bool).scatter(-1, top, False)
    assert (student.grad[tail].abs() > 0).all()
    assert teacher.grad is None


def _separated_logits(seed, shape):
    # Well-separated logits keep the top-K set fixed under gradcheck's finite differences.
    torch.manual_seed(seed)
    base = torch.arange(shape[-1], dtype=torch.float64) * 0.7
    return (base + 0.05 * torch.randn(*shape, dtype=torch.float64)).requires_grad_(True)


@pytest.mark.parametrize("kind", ["reverse_kl", "forward_kl", "jsd"])
def test_logit_level_loss_gradient_matches_finite_differences(kind):
    student = _separated_logits(0, (2, 3, 6))
    teacher = torch.randn(2, 3, 6, dtype=torch.float64)
    mask = torch.tensor([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0]], dtype=torch.float64)
    assert torch.autograd.gradcheck(
        lambda s: losses.logit_level_loss(s, teacher, mask, k=2, kind=kind, alpha=0.3), (student,)
    )


def test_token_and_sequence_loss_gradients_match_finite_differences():
    student = _separated_logits(2, (2, 3, 5))
    targets = torch.tensor([[0, 4, 2], [1, 1, 3]])
    mask = torch.tensor([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0]], dtype=torch.float64)
    adv = torch.randn(2, 3, dtype=torch.float64)

    def token(s):
        logp = s.log_softmax(-1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)
        return losses.token_level_loss(logp, adv, mask)

    def sequence(s):
        logp = s.log_softmax(-1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)
        return losses.sequence_level_loss(logp, losses.sequence_rewards(adv, mask), mask)

    assert torch.autograd.gradcheck(token, (student,))
    assert torch.autograd.gradcheck(sequence, (student,))


def test_unknown_divergence_and_bad_jsd_alpha_are_rejected():
    s = _log([0.5, 0.5])
    with pytest.raises(ValueError, match="unknown divergence"):
        losses.divergence(s, s, "tv")
    with pytest.raises(ValueError, match="alpha"):
        losses.divergence(s, s, "jsd", alpha=1.0)
