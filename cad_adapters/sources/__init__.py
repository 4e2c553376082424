"""Where records come from, one module per source: a file read once or followed (`file`), a
directory the CAD drops files into (`directory`), a TCP line feed (`tcp`), or a NENA-STA-024
EIDO subscription (`eido_subscription`). Each turns what it reads into spool entries through a
`reader.Reader` and commits them before going on, so what was read is never only in memory.
"""
