-- 500 events per POST, as one JSON array. Arguments after "--": TOKEN RUN. See events.lua.
PER_REQUEST = 500
dofile((debug.getinfo(1, "S").source:sub(2):match("^(.*/)") or "./") .. "events.lua")
