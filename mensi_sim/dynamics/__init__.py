"""The seven rules of one step, each a pure function of arrays and a random generator.

Order of a step (synchronous: every rule reads the state at t, the model writes t + 1):

1. ``contacts``   which ties meet this week, and what the meetings cost
2. ``learning``   capacity gained in meetings; drift toward baseline without contact
3. ``training``   course enrolment, completion and its capacity gain
4. ``adoption``   adoption (Bass-type or threshold) and abandonment
5. ``engagement`` engagement relaxes toward its target; long disengagement drops out
6. ``opening``    outside schools join as mentees of capable adopters
7. ``incentives`` schemes pay out; ``costs`` books running costs by category
"""
