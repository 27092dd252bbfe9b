import Discovery
