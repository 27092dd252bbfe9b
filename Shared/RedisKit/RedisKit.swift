// Redis client on hiredis.
import CHiredis
