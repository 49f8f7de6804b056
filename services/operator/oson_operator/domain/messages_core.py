"""Message catalog of the request, operation and refusal codes (see oson_operator.domain.messages)."""

from __future__ import annotations

from collections.abc import Mapping

from oson_operator.domain.messages import Language

CATALOG: Mapping[str, Mapping[Language, str]] = {
    # Request shape (§14.1(3)): one message per field.
    "FIELD_REQUIRED": {
        "kk": "«{field}» өрісі толтырылмаған",
        "ru": "Не заполнено поле «{field}»",
        "en": "Field '{field}' is required",
    },
    "FIELD_INVALID": {
        "kk": "«{field}» өрісінің мәні қате: {reason}",
        "ru": "Неверное значение поля «{field}»: {reason}",
        "en": "Field '{field}' is invalid: {reason}",
    },
    "FIELD_UNKNOWN": {
        "kk": "«{field}» өрісі белгісіз",
        "ru": "Неизвестное поле «{field}»",
        "en": "Field '{field}' is not allowed here",
    },
    "REQUEST_INVALID": {
        "kk": "Сұрау толық емес немесе қате",
        "ru": "Запрос неполон или содержит ошибки",
        "en": "The request is incomplete or invalid",
    },
    "MALFORMED_JSON": {
        "kk": "Сұрау денесі дұрыс JSON емес",
        "ru": "Тело запроса не является корректным JSON",
        "en": "The request body is not valid JSON",
    },
    "NOT_FOUND": {
        "kk": "Табылмады",
        "ru": "Не найдено",
        "en": "Not found",
    },
    "METHOD_NOT_ALLOWED": {
        "kk": "Бұл әдіске рұқсат жоқ",
        "ru": "Метод не разрешён",
        "en": "Method not allowed",
    },
    "INTERNAL_ERROR": {
        "kk": "Ішкі қате; сұрау идентификаторын қолдау қызметіне хабарлаңыз",
        "ru": "Внутренняя ошибка; сообщите идентификатор запроса в службу поддержки",
        "en": "Internal error; give the request id to support",
    },
    "DATABASE_UNAVAILABLE": {
        "kk": "Дерекқор қолжетімсіз; кейінірек қайталаңыз",
        "ru": "База данных недоступна; повторите позже",
        "en": "The database is unavailable; try again later",
    },
    # Operations and refusals (§5.4.7).
    "IDEMPOTENCY_KEY_REQUIRED": {
        "kk": 'Idempotency-Key тақырыбы міндетті',
        "ru": 'Заголовок Idempotency-Key обязателен',
        "en": 'The Idempotency-Key header is required on every state-changing request',
    },
    "IDEMPOTENCY_KEY_REUSED": {
        "kk": 'Бұл кілт басқа сұрау үшін қолданылған',
        "ru": 'Этот ключ уже использован для другого запроса',
        "en": 'This Idempotency-Key was already used for a different request; use a new key',
    },
    "OUTCOME_UNKNOWN": {
        "kk": 'Операцияның нәтижесі белгісіз; сол кілтпен қайталаңыз',
        "ru": 'Результат операции неизвестен; повторите запрос с тем же ключом',
        "en": 'The outcome is not known yet; retry with the same Idempotency-Key to settle it',
    },
    "PARTICIPANT_EXISTS": {
        "kk": 'ЖСН/БСН {iin_bin} бар қатысушы тіркелген',
        "ru": 'Участник с ИИН/БИН {iin_bin} уже зарегистрирован',
        "en": 'A participant of this kind with IIN/BIN {iin_bin} is already registered',
    },
    "PARTICIPANT_NOT_FOUND": {
        "kk": 'Қатысушы табылмады',
        "ru": 'Участник не найден',
        "en": 'Participant not found',
    },
    "CLIENT_TOO_YOUNG": {
        "kk": 'Клиент {age} жасқа толмаған',
        "ru": 'Клиенту не исполнилось {age} лет',
        "en": 'The client must be at least {age} years old',
    },
    "REPRESENTATIVE_CONSENT_REQUIRED": {
        "kk": 'Заңды өкілдің келісімі қажет',
        "ru": 'Требуется согласие законного представителя',
        "en": "A legal representative's consent is required under 18",
    },
    "TARIFF_UNKNOWN": {
        "kk": '«{tariff}» тарифі жоқ',
        "ru": 'Тариф «{tariff}» не существует',
        "en": "Tariff '{tariff}' is not configured",
    },
    "IDENTIFICATION_INDIVIDUALS_ONLY": {
        "kk": 'Сәйкестендіру деңгейі тек жеке тұлғаларға',
        "ru": 'Уровень идентификации только для физических лиц',
        "en": 'Identification levels apply to individuals only',
    },
    "IDENTIFICATION_NOT_HIGHER": {
        "kk": 'Жаңа деңгей ағымдағыдан ({current}) жоғары болуы керек',
        "ru": 'Новый уровень должен быть выше текущего ({current})',
        "en": 'The new level must be higher than the current one ({current})',
    },
    "STATUS_UNCHANGED": {
        "kk": 'Күйі қазірдің өзінде {status}',
        "ru": 'Статус уже {status}',
        "en": 'The status is already {status}',
    },
    "PARTICIPANT_CLOSED": {
        "kk": 'Қатысушы жабылған',
        "ru": 'Участник закрыт',
        "en": 'The participant is closed',
    },
    "WALLET_HOLDER_KIND": {
        "kk": 'Бұл қатысушы түріне әмиян ашылмайды',
        "ru": 'Для участника этого вида кошелёк не открывается',
        "en": 'Wallets are not opened for participants of kind {kind}',
    },
    "PARTICIPANT_NOT_ACTIVE": {
        "kk": 'Қатысушы белсенді емес ({status})',
        "ru": 'Участник не активен ({status})',
        "en": 'The participant is not active ({status})',
    },
    "ISSUER_UNKNOWN": {
        "kk": 'Эмитент табылмады',
        "ru": 'Эмитент не найден',
        "en": 'No issuer with id {issuer_id}',
    },
    "ISSUER_NOT_ACTIVE": {
        "kk": 'Эмитент белсенді емес',
        "ru": 'Эмитент не активен',
        "en": 'The issuer is not active',
    },
    "WALLET_NOT_FOUND": {
        "kk": 'Әмиян табылмады',
        "ru": 'Кошелёк не найден',
        "en": 'Wallet not found',
    },
    "WALLET_ALREADY_BLOCKED": {
        "kk": 'Әмиян бұғатталған',
        "ru": 'Кошелёк уже заблокирован',
        "en": 'The wallet is already blocked',
    },
    "AML_BLOCK_TOO_LONG": {
        "kk": 'Бұғаттау {days} жұмыс күнінен аспайды',
        "ru": 'Блокировка не более {days} рабочих дней',
        "en": 'A block without reasons lasts at most {days} working days',
    },
    "WALLET_NOT_BLOCKED": {
        "kk": 'Әмиян бұғатталмаған',
        "ru": 'Кошелёк не заблокирован',
        "en": 'The wallet is not blocked',
    },
    "WALLET_BLOCKED": {
        "kk": 'Әмиян бұғатталған; операция тоқтатылды',
        "ru": 'Кошелёк заблокирован; операция отклонена',
        "en": 'The wallet is blocked; the operation is refused',
    },
    "RECIPIENT_WALLET_BLOCKED": {
        "kk": 'Алушының әмияны бұғатталған',
        "ru": 'Кошелёк получателя заблокирован',
        "en": "The recipient's wallet is blocked",
    },
    "OPERATOR_MAXIMUM_EXCEEDED": {
        "kk": 'Сома Оператордың ең жоғары сомасынан ({maximum}) асады',
        "ru": 'Сумма превышает максимум Оператора ({maximum})',
        "en": "The amount exceeds the operator's maximum per operation ({maximum})",
    },
    "LIMIT_PER_OPERATION": {
        "kk": 'Бір операция лимиті асты: {mci} АЕК ({limit} ₸)',
        "ru": 'Превышен лимит одной операции: {mci} МРП ({limit} ₸)',
        "en": 'Over the per-operation limit: {mci} MCI ({limit} KZT)',
    },
    "LIMIT_PER_DAY": {
        "kk": 'Күндік лимит асты: {mci} АЕК ({limit} ₸), пайдаланылды {used} ₸',
        "ru": 'Превышен дневной лимит: {mci} МРП ({limit} ₸), использовано {used} ₸',
        "en": 'Over the daily limit: {mci} MCI ({limit} KZT), {used} KZT already used today',
    },
    "INSUFFICIENT_FUNDS": {
        "kk": 'Қаражат жеткіліксіз: қалдық {balance} ₸, қажет {needed} ₸',
        "ru": 'Недостаточно средств: остаток {balance} ₸, нужно {needed} ₸',
        "en": 'Insufficient funds: balance {balance} KZT, needed {needed} KZT',
    },
    "LIMIT_BALANCE": {
        "kk": 'Әмияндағы сома лимиті асады: {mci} АЕК ({limit} ₸)',
        "ru": 'Превышен лимит остатка кошелька: {mci} МРП ({limit} ₸)',
        "en": "The recipient's stored-balance limit would be exceeded: {mci} MCI ({limit} KZT)",
    },
    "SAME_WALLET": {
        "kk": 'Төлеуші мен алушы әмияны бірдей',
        "ru": 'Кошелёк плательщика и получателя совпадают',
        "en": 'The payer and the payee wallet are the same',
    },
    "ISSUER_MISMATCH": {
        "kk": 'Әмияндар әртүрлі эмитенттердің',
        "ru": 'Кошельки разных эмитентов',
        "en": "The wallets hold different issuers' e-money",
    },
    "PAYEE_REQUIRED": {
        "kk": 'Алушы әмиянын көрсетіңіз',
        "ru": 'Укажите кошелёк получателя',
        "en": 'Give payee_wallet_id for a payment quote',
    },
    "PAYEE_NOT_PARTNER": {
        "kk": 'Алушы Серіктес емес',
        "ru": 'Получатель не является Партнёром',
        "en": 'The payee is not a partner (merchant) with a tariff',
    },
    "KIND_NOT_QUOTABLE": {
        "kk": 'Бұл операция түрі үшін баға жоқ',
        "ru": 'Для этого вида операции нет расчёта',
        "en": 'This kind of operation has no quote',
    },
    "AMOUNT_BELOW_COMMISSION": {
        "kk": 'Сома комиссиядан аз',
        "ru": 'Сумма меньше комиссии',
        "en": 'The amount does not cover the commission',
    },
    "TRANSFER_RECIPIENT_KIND": {
        "kk": 'Аударым тек заңды тұлғаға немесе ЖК-ге',
        "ru": 'Перевод только юридическому лицу или ИП',
        "en": 'Transfers go to legal entities and individual entrepreneurs only',
    },
    "RECIPIENT_NOT_ACTIVE": {
        "kk": 'Алушы белсенді емес',
        "ru": 'Получатель не активен',
        "en": 'The recipient is not active',
    },
    "REDEMPTION_UNIDENTIFIED": {
        "kk": 'Сәйкестендірілмеген жеке тұлғаның электрондық ақшасы өтелмейді',
        "ru": 'Электронные деньги неидентифицированного физического лица не погашаются',
        "en": 'E-money of an unidentified individual cannot be redeemed (§5.7)',
    },
    "OPERATION_NOT_FOUND": {
        "kk": 'Операция табылмады',
        "ru": 'Операция не найдена',
        "en": 'Operation not found',
    },
    "RETURN_NOT_ALLOWED_FOR_KIND": {
        "kk": 'Бұл операцияны қайтаруға болмайды',
        "ru": 'Эту операцию нельзя вернуть',
        "en": 'Only completed payments and transfers can be returned (this is a {kind})',
    },
    "RETURN_ISSUER_PERMISSION_REQUIRED": {
        "kk": 'Эмитенттің рұқсаты қажет',
        "ru": 'Требуется разрешение эмитента',
        "en": "This return needs the issuer's permission (authorized_by: issuer)",
    },
    "RETURN_RECIPIENT_ORDER_REQUIRED": {
        "kk": 'Алушының өкімі қажет',
        "ru": 'Требуется распоряжение получателя',
        "en": "A return to the wrong recipient's sender needs the recipient's order",
    },
    "RETURN_APPLICATIONS_REQUIRED": {
        "kk": 'Клиент пен Серіктестің өтініштері қажет',
        "ru": 'Требуются заявления Клиента и Партнёра',
        "en": "A cancelled sale needs both the client's and the partner's applications",
    },
    "RETURN_EXCEEDS_ORIGINAL": {
        "kk": 'Қайтару сомасы қалдықтан ({remaining} ₸) асады',
        "ru": 'Сумма возврата превышает остаток ({remaining} ₸)',
        "en": 'The return exceeds what is left of the original ({remaining} KZT)',
    },
    "RETURN_MUST_BE_FULL": {
        "kk": 'Толық сома қайтарылуы керек',
        "ru": 'Возвращается полная сумма',
        "en": 'A technical-failure return is for the full amount',
    },
    "RETURN_FUNDS_MOVED": {
        "kk": 'Серіктес қаражатты пайдаланып қойған',
        "ru": 'Партнёр уже распорядился средствами',
        "en": 'The partner has already moved the e-money (balance {balance} KZT)',
    },
    "RECEIPT_NOT_FOUND": {
        "kk": 'Түбіртек табылмады',
        "ru": 'Квитанция не найдена',
        "en": 'No receipt: the operation does not exist or was refused',
    },
}
