"""The rules of one step, each a pure function of arrays and its own random stream.

Order of a step (synchronous: every rule reads the state at t, the model writes t + 1):

0. ``programme``  where the programme stands (before, running, after); at its end which
                  clusters go on
1. ``contacts``   which clusters and ties meet this week, who goes, what it costs
2. ``learning``   capacity gained in meetings; drift toward baseline without contact
3. ``training``   course enrolment, completion and its capacity gain
4. ``adoption``   adoption (a rule from the registry: contact, bass, threshold) and
                  abandonment
5. ``engagement`` engagement relaxes toward its target; long disengagement drops out
6. ``opening``    outside schools join as mentees of capable adopters
7. ``incentives`` schemes pay out; ``costs`` books running costs by category
"""
