"""The api pod's order worker: queries the db pod's MariaDB a few times a second, so that the agent shows MySQL
statements per pod with their latency and errors. Mostly reads by id, some writes, a slow report now and then, and
a query on a table that does not exist (error 1146). Runs with Debian's python3-pymysql until killed."""
import random
import sys
import time

import pymysql

host, port, per_second = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
for attempt in range(100):
    try:
        db = pymysql.connect(host=host, port=port, user="app", password="", database="shop", autocommit=True)
        break
    except pymysql.err.OperationalError:
        time.sleep(0.2)
else:
    sys.exit("the db pod's MariaDB does not answer")

statements = [
    (60, lambda: ("SELECT id, customer, total FROM orders WHERE id = %s", (random.randint(1, 500),))),
    (15, lambda: ("SELECT count(*) FROM orders WHERE customer = %s AND total > %s", ("cust-%d" % random.randint(1, 50), random.randint(1, 100)))),
    (10, lambda: ("INSERT INTO orders (customer, total) VALUES (%s, %s)", ("cust-%d" % random.randint(1, 50), random.randint(1, 500)))),
    (8, lambda: ("UPDATE orders SET total = total + %s WHERE id = %s", (random.randint(1, 5), random.randint(1, 500)))),
    (4, lambda: ("SELECT customer, sum(total), SLEEP(0.05) FROM orders GROUP BY customer LIMIT 5", ())),
    (3, lambda: ("SELECT * FROM invoices WHERE id = %s", (random.randint(1, 9),))),
]
weights = [weight for weight, _ in statements]
while True:
    sql, parameters = random.choices(statements, weights)[0][1]()
    try:
        with db.cursor() as cursor:
            cursor.execute(sql, parameters)
            cursor.fetchall()
    except pymysql.err.MySQLError as error:
        print("error", error.args[0], flush=True)
    time.sleep(random.expovariate(per_second))
