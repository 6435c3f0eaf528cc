"""The sandbox's model of data: write histories of every database copy, the application load that makes
them, and the report tests read ("no acknowledged write lost", "never two writers").

`model` holds branches, copies and families; `copies` says what a moto object is and whether it accepts a
write; `load` runs the application load and replication; `lag` derives the engines' lag metrics; `report`
is the control API's `data_report()`. Helpers for tests reading a report: `dr.testing.data`.
"""
