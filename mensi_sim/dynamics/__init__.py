"""The rules of one step, each a pure function of arrays and its own random stream.

Order of a step (synchronous: rules 0-5 and 7 read the state at t, the model writes
t + 1, then rule 6 runs on it, so joiners meet from the next week):

0. ``programme``  where the programme stands (before, running, after); at its end which
                  clusters go on
1. ``contacts``   which clusters and ties meet this week, who goes, what it costs
2. ``learning``   capacity gained in meetings; drift toward baseline without contact
3. ``training``   course enrolment, completion and its capacity gain
4. ``adoption``   adoption (a rule from the registry: contact, bass, threshold) and
                  abandonment
5. ``engagement`` engagement relaxes toward its target; long disengagement drops out
7. ``incentives`` schemes pay out; ``costs`` books running costs by category
6. ``opening``    outside schools join as mentees of capable adopters (last, on t + 1)
"""
