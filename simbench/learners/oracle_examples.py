"""Hand-written example exchanges for the few-shot oracle, and the checker-based pick of them.

Each question comes with answers in several styles (new styles are appended, so the pick
for any set of preferences an earlier answer satisfies never changes). For a set of active preferences the
few-shot oracle shows, per question, the first answer that passes every active preference's
own checker, so an example is compliant by construction (the checkers decide, not this
file); a question with no passing answer is left out.
"""

from __future__ import annotations

from typing import Sequence

from simbench.persona.preference import Preference

_FLOWERS_DETAILED = (
    "Cut flowers last longest when they can keep drinking clean water. Trim about two "
    "centimetres from each stem at an angle with a sharp knife, because a slanted cut exposes "
    "more of the stem to the water and a clean cut does not crush the channels that carry it. "
    "Strip every leaf that would sit below the waterline, since submerged leaves rot and feed "
    "the bacteria that block the stems. Change the water every two days and trim the stems "
    "again each time; a vase that smells or turns cloudy is already full of bacteria. Place "
    "the vase away from direct sunlight, radiators and the fruit bowl, because warmth speeds "
    "up wilting and ripening fruit releases ethylene, a gas that makes petals drop. For "
    "example, tulips kept in a cool hallway often last a week longer than the same tulips "
    "beside a sunny window. The small sachet of flower food that comes with a bouquet also "
    "helps, as it feeds the blooms and slows the growth of bacteria in the water."
)
_BREAD_DETAILED = (
    "Bread goes stale mainly because its starch slowly recrystallises and pushes water out, "
    "not because it dries in the air. That process runs fastest at refrigerator temperature, "
    "which is why a loaf kept in the fridge turns hard sooner than one kept on the counter. "
    "For a loaf you will finish within two or three days, keep it cut side down on a wooden "
    "board or in a cloth bag, which lets the crust stay crisp while the crumb keeps its "
    "moisture. A plastic bag keeps the crumb soft for longer, but the crust turns leathery "
    "and mould appears sooner, especially in a warm kitchen. For anything longer, slice the "
    "loaf and freeze it in a sealed bag, because freezing stops the starch from changing. "
    "For example, frozen slices go straight into the toaster and taste almost fresh, while a "
    "whole frozen loaf can be thawed on the counter for a few hours and then warmed in a hot "
    "oven for five minutes to revive the crust."
)

EXAMPLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "How can I keep cut flowers fresh for longer?",
        (
            "Trim the stems at an angle and change the water every two days. Keep the vase "
            "away from direct sun and from ripening fruit.",
            "- Trim the stems at an angle.\n- Change the water every two days.\n"
            "- Keep the vase out of direct sun.\n- Keep it away from ripening fruit.",
            "Just trim the stems at an angle and swap the water every couple of days 🌷 It's "
            "also smart to keep them out of the sun.",
            "Trim the stems at an angle and change the water every two days. Keep the vase "
            "away from direct sun. Which flowers are in your vase?",
            _FLOWERS_DETAILED,
            "**There are two good options.** Option 1: trim the stems and change the water every "
            "two days; it is the simplest routine. Option 2: add the sachet of flower food — it "
            "slows bacteria, so the water can stay longer.",
            "Which flowers are you keeping, and how warm is your room? Tulips and roses need "
            "different care, so tell me and I will suggest the right routine.",
        ),
    ),
    (
        "What is the best way to store bread?",
        (
            "Keep bread you will eat within two days in a cloth bag on the counter. Slice and "
            "freeze the rest, and never put it in the fridge.",
            "- Keep it in a cloth bag on the counter for up to two days.\n"
            "- Slice and freeze whatever you will not eat by then.\n"
            "- Never keep it in the fridge.",
            "Pop it in a cloth bag on the counter if you'll eat it in a day or two 🍞 Anything "
            "else? Slice it and freeze it.",
            "Keep it in a cloth bag on the counter for up to two days, and freeze the rest in "
            "slices. What kind of bread do you usually buy?",
            _BREAD_DETAILED,
            "**You have two options.** Option 1: keep it in a cloth bag on the counter; it stays "
            "crisp for two days. Option 2: slice and freeze it — the slices toast straight from "
            "the freezer.",
            "How soon will you eat it, and what kind of bread is it? A sourdough loaf and sliced "
            "sandwich bread keep best in different ways, so tell me and I will say which.",
        ),
    ),
)


def compliant_examples(
    active: Sequence[Preference], examples: Sequence[tuple[str, Sequence[str]]] = EXAMPLES
) -> list[tuple[str, str]]:
    """(question, answer) pairs: per question, the first answer every active checker passes
    (a rubric wish has no checker: the examples cannot show it, so it does not filter them)."""
    checkable = [p for p in active if p.verifiable]
    chosen = []
    for question, answers in examples:
        answer = next((a for a in answers if all(p.check(a).passed for p in checkable)), None)
        if answer is not None:
            chosen.append((question, answer))
    return chosen
