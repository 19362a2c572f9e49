"""sdpo: self-distillation from user follow-ups (SDPO), usable without simbench.

For prompt x, response y and the user's next message o, the same model scored with o in
its context ("hindsight") is the teacher; the policy is pushed toward it.
"""

__version__ = "0.1.0"
