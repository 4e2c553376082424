-- One event per POST. Arguments after "--": TOKEN RUN. See events.lua.
PER_REQUEST = 1
dofile((debug.getinfo(1, "S").source:sub(2):match("^(.*/)") or "./") .. "events.lua")
