"""`watcher demo`: staged workflows A to E on the simulators, side by side on one watcher.

Modules: `world` (the PBS simulator, Globus emulator, SMTP sink and service in one directory),
`scenarios` (A-H as data: input, what happens, what is expected), `checks` (expectations,
pure), `facts` (what a workflow did, pure), `setup` (a scenario's files and spec), `look`
(reading the world), `actor` (what a scenario can do), `stream` (the live log), `runner`
(the scenarios side by side on one service), `report` (the table and the emails), `run`
(the whole demo, start to end).
"""
